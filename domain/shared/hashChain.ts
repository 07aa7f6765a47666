import { hash } from 'node:crypto';

/**
 * The hash chain that makes the event log tamper-evident (docs/audit.md). Every stored event has
 *
 *   hash = SHA-256("tidings-chain-v1" ‖ previous hash ‖ position ‖ revision ‖ event id ‖ stream ‖
 *                  type ‖ metadata ‖ SHA-256(data))
 *
 * in log order, where the previous hash of the first event is 32 zero bytes, numbers are 8-byte
 * big-endian, texts are UTF-8, each preceded by its byte length (4 bytes, big-endian), and
 * `data` and `metadata` are the event's JSON texts as stored. The chain covers the data's digest,
 * not the data, so a person's data can be erased while the chain still verifies: the store keeps
 * each event's data digest beside it. Metadata (times, actor ids, correlation) is never erased,
 * so the chain covers it directly, which spares one hash per event against the H(metadata) the
 * design card sketches and proves the same.
 */

/** A SHA-256 digest. */
export type Digest = Buffer;

/** The previous hash of the log's first event. */
export const GENESIS_HASH: Digest = Buffer.alloc(32);

const DOMAIN = Buffer.from('tidings-chain-v1', 'utf8');

/** A stored JSON text, as text or as its UTF-8 bytes (the verifier reads bytes: no decoding). */
export type StoredText = string | Buffer;

/** SHA-256 of a stored JSON text. */
export const digestOf = (text: StoredText): Digest => hash('sha256', text, 'buffer');

/** The text of a stored JSON text, for the few events whose data the verifier reads. */
const textOf = (text: StoredText): string =>
  typeof text === 'string' ? text : text.toString('utf8');

/** The buffer each chain hash is assembled in, grown when an event needs more. */
let scratch = Buffer.allocUnsafe(4_096);

/** What of an event the chain covers, besides the previous hash. */
export interface ChainedFields {
  readonly position: number;
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly dataDigest: Digest;
  /** The metadata's JSON text as stored. */
  readonly metadata: StoredText;
}

/**
 * The hash of one event, chained to `previous`: one buffer (reused from call to call), one hash
 * call.
 */
export const chainHash = (previous: Digest, fields: ChainedFields): Digest => {
  const { eventId, stream, type, metadata } = fields;
  const size =
    DOMAIN.length +
    32 +
    8 +
    8 +
    32 +
    16 +
    Buffer.byteLength(eventId, 'utf8') +
    Buffer.byteLength(stream, 'utf8') +
    Buffer.byteLength(type, 'utf8') +
    Buffer.byteLength(metadata, 'utf8');
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  const bytes = scratch;
  let at = DOMAIN.copy(bytes, 0);
  at += previous.copy(bytes, at);
  at = writeUint64(bytes, fields.position, at);
  at = writeUint64(bytes, fields.revision, at);
  at = writeText(bytes, eventId, at);
  at = writeText(bytes, stream, at);
  at = writeText(bytes, type, at);
  at = writeText(bytes, metadata, at);
  at += fields.dataDigest.copy(bytes, at);
  return hash('sha256', bytes.subarray(0, at), 'buffer');
};

/** An integer below 2^53 as 8 bytes, big-endian, without a BigInt per call. */
const writeUint64 = (bytes: Buffer, value: number, at: number): number => {
  bytes.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at);
  return bytes.writeUInt32BE(value >>> 0, at + 4);
};

/** A text's UTF-8 bytes preceded by their length (4 bytes, big-endian). */
const writeText = (bytes: Buffer, text: StoredText, at: number): number => {
  const length =
    typeof text === 'string' ? bytes.write(text, at + 4, 'utf8') : text.copy(bytes, at + 4);
  bytes.writeUInt32BE(length, at);
  return at + 4 + length;
};

/** Why a link of the chain is bad, as `verify` reports it. */
export type ChainFault =
  'missing' | 'out_of_order' | 'data_changed' | 'hash_mismatch' | 'unchained';

/** One event as the verifier reads it: the fields, its stored JSON texts and digests. */
export interface ChainLink {
  readonly position: number;
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: StoredText;
  readonly metadata: StoredText;
  /** The stored digest of the data as first written (it outlives an erasure of the data). */
  readonly dataDigest: Digest | null;
  readonly hash: Digest | null;
}

/** What checking one link found: the hash it has, or the fault. */
export type LinkCheck =
  | { readonly ok: true; readonly hash: Digest }
  | { readonly ok: false; readonly fault: ChainFault; readonly detail: string };

/**
 * Checks one link against the one before it (`previous`: its position and hash; position 0 and
 * the genesis hash before the first). `erased` says whether the link's data was erased by a
 * recorded erasure, so that data no longer matching its digest is expected.
 */
export const checkLink = (
  previous: { readonly position: number; readonly hash: Digest },
  link: ChainLink,
  erased: boolean,
): LinkCheck => {
  if (link.position <= previous.position) {
    return {
      ok: false,
      fault: 'out_of_order',
      detail: `position ${link.position} follows ${previous.position}`,
    };
  }
  if (link.position !== previous.position + 1) {
    return {
      ok: false,
      fault: 'missing',
      detail: `positions ${previous.position + 1}–${link.position - 1} are missing`,
    };
  }
  if (link.hash === null || link.dataDigest === null) {
    return { ok: false, fault: 'unchained', detail: 'the event has no hash' };
  }
  if (!erased && !digestOf(link.data).equals(link.dataDigest)) {
    return { ok: false, fault: 'data_changed', detail: 'the data does not match its digest' };
  }
  const expected = chainHash(previous.hash, {
    position: link.position,
    eventId: link.eventId,
    stream: link.stream,
    revision: link.revision,
    type: link.type,
    dataDigest: link.dataDigest,
    metadata: link.metadata,
  });
  if (!expected.equals(link.hash)) {
    return {
      ok: false,
      fault: 'hash_mismatch',
      detail: 'the hash does not follow from the event and the one before it',
    };
  }
  return { ok: true, hash: link.hash };
};

/**
 * The part of checking a link that needs nothing but the link before it: its place and hash
 * ({@link checkLink}), and whether its data still matches its digest (`held`: the data's digest,
 * hex). A {@link ChainVerifier} does the rest, in order.
 */
export type LinkLook =
  | {
      readonly ok: false;
      readonly position: number;
      readonly fault: ChainFault;
      readonly detail: string;
    }
  | { readonly ok: true; readonly hash: Digest; readonly intact: boolean; readonly held: string };

export const lookAtLink = (
  previous: { readonly position: number; readonly hash: Digest },
  link: ChainLink,
): LinkLook => {
  // The data is compared with its digest below: a mismatch may be an erasure listed later.
  const result = checkLink(previous, link, true);
  if (!result.ok) {
    const position = result.fault === 'missing' ? previous.position + 1 : link.position;
    return { ok: false, position, fault: result.fault, detail: result.detail };
  }
  const held = digestOf(link.data);
  const intact = link.dataDigest !== null && held.equals(link.dataDigest);
  return { ok: true, hash: result.hash, intact, held: intact ? '' : held.toString('hex') };
};

/** A link looked at, with the hash of the link before it. */
export interface LookedLink {
  readonly link: ChainLink;
  readonly before: Digest;
  readonly hash: Digest;
  readonly intact: boolean;
  /** The digest of the data it holds, hex (empty when intact). */
  readonly held: string;
}

/** A stretch of links looked at elsewhere, for {@link ChainVerifier.take}. */
export interface LookedStretch {
  /** The links the verifier must read ({@link mustRead}), in order. */
  readonly read: readonly LookedLink[];
  /** The last link of the stretch that looked right. */
  readonly last?: { readonly position: number; readonly hash: Digest };
  /** The fault that ended the stretch, with the link before it. */
  readonly fault?: {
    readonly position: number;
    readonly fault: ChainFault;
    readonly detail: string;
    readonly before: { readonly position: number; readonly hash: Digest };
  };
}

/** Whether a verifier must read a link that looked right: its data changed, or it records. */
export const mustRead = (type: string, intact: boolean): boolean =>
  !intact || READ_RECORDS.has(type);

/** What a {@link ChainVerifier} found: how many events it checked, the head it reached, the first fault. */
export interface ChainReport {
  readonly ok: boolean;
  readonly checked: number;
  /** The last event that verified (position 0 and the genesis hash if none did). */
  readonly head: { readonly position: number; readonly hash: Digest };
  readonly firstBadPosition?: number;
  readonly fault?: ChainFault | 'head_mismatch' | 'bad_signature';
  readonly reason?: string;
  /** Signed heads found in the log and checked against the chain. */
  readonly headsChecked: number;
  /**
   * On a log sealed after the fact (EventStoreDB): its events after the last sealed one, which
   * the chain does not cover yet. Absent where every event is chained as it is written.
   */
  readonly unsealed?: number;
}

/** The event type of a signed chain head the server appends to the log (docs/audit.md). */
export const SIGNED_HEAD_EVENT = 'AuditHeadSigned';

/**
 * The event type that introduces a head-signing key to the log (data: {@link IntroducedKey}),
 * appended before the first head it signs: a head stays checkable by the key that signed it after
 * the server's key was lost or replaced (docs/audit.md).
 */
export const SIGNING_KEY_EVENT = 'AuditKeyIntroduced';

/** The data of a {@link SIGNING_KEY_EVENT}. */
export interface IntroducedKey {
  readonly keyId: string;
  /** SPKI PEM. */
  readonly publicKey: string;
}

/** What an erased person's data reads as, in the log and in every read model (docs/audit.md). */
export const ERASED = '[erased]';

/**
 * The event type that records an erasure of event data (data: `{ recipientId, events: [{
 * position, dataDigest }] }`): each listed event, before it, now holds the data whose SHA-256
 * (hex, of the stored JSON text) is `dataDigest` instead of the data the chain covers. The erased
 * form is covered too, so an erased event edited afterwards is still caught.
 */
export const DATA_ERASED_EVENT = 'RecipientDataErased';

/** One event an erasure rewrote: its position and the digest of its erased data. */
export interface ErasedEvent {
  readonly position: number;
  /** SHA-256 of the erased data's JSON text as stored, hex. */
  readonly dataDigest: string;
}

/** The erased events a recorded erasure lists (its stored JSON text), only those before `at`. */
export const erasedEventsOf = (at: number, data: string): readonly ErasedEvent[] => {
  const parsed = JSON.parse(data) as { events?: unknown };
  if (!Array.isArray(parsed.events)) throw new Error('the erasure lists no events');
  return (parsed.events as unknown[]).filter(
    (entry): entry is ErasedEvent =>
      typeof entry === 'object' &&
      entry !== null &&
      Number.isInteger((entry as ErasedEvent).position) &&
      (entry as ErasedEvent).position < at &&
      typeof (entry as ErasedEvent).dataDigest === 'string',
  );
};

/** A signed chain head: the data of a {@link SIGNED_HEAD_EVENT}, and `GET /v1/audit/head`. */
export interface SignedHead {
  readonly position: number;
  /** The hash at `position`, hex. */
  readonly hash: string;
  readonly signedAt: string;
  /** Ed25519 signature of {@link signedHeadText}, base64. */
  readonly signature: string;
  readonly keyId: string;
}

/** The text a head's signature covers. */
export const signedHeadText = (head: Pick<SignedHead, 'position' | 'hash' | 'signedAt'>): string =>
  `tidings-head-v1\n${head.position}\n${head.hash}\n${head.signedAt}`;

/**
 * The event type of a person's deletion of their account. An erasure record counts only in the
 * stream of a person whose deletion came before it (when the verified range starts at the first
 * event: a later start may lie after the deletion).
 */
export const ERASURE_REQUESTED_EVENT = 'RecipientErased';

/** The event types of the chain's own records, which are never erased. */
const AUDIT_RECORDS: ReadonlySet<string> = new Set([
  SIGNED_HEAD_EVENT,
  SIGNING_KEY_EVENT,
  DATA_ERASED_EVENT,
]);

const NOT_ERASED_FORM = 'the data does not match its digest, and is not an erased form of it';

/** The records a verifier reads: the chain's own, and a person's deletion. */
const READ_RECORDS: ReadonlySet<string> = new Set([...AUDIT_RECORDS, ERASURE_REQUESTED_EVENT]);

/** How many of the latest hashes a {@link ChainVerifier} keeps to check a signed head against. */
const RECENT_HASHES = 4_096;

export interface VerifyOptions {
  /** Whether a signed head's signature is valid (absent: signatures are not checked). */
  readonly signatureValid?: (head: SignedHead) => boolean;
  /**
   * Told of each key the log introduces ({@link SIGNING_KEY_EVENT}), in log order, so that heads
   * signed by it can be checked; throws for data that is no usable key.
   */
  readonly keyIntroduced?: (key: IntroducedKey) => void;
  /** The hash at `position` for a signed head older than the hashes kept in memory. */
  readonly hashAt?: (position: number) => Digest | undefined;
  /**
   * Whether `data` (an event of `type`, as stored) is an erased form: every personal field the
   * type has is erased (domain/recipient/personalData.ts). Only such data may differ from its
   * digest, and only with a recorded erasure; absent, no data may.
   */
  readonly erasedForm?: (type: string, data: string) => boolean;
}

/**
 * Recomputes the chain link by link, in log order, starting after `start` (the link before the
 * first one, trusted), and stops at the first fault, naming its position. Every signed head in
 * the log must name the hash the chain has at its position and, with `signatureValid`, carry a
 * valid signature. Data that no longer matches its digest is a fault unless it is an erased form
 * (`erasedForm`) and a recorded erasure ({@link DATA_ERASED_EVENT}, itself intact, in the stream
 * of a person deleted before it) later in the log lists its position with the digest of exactly
 * that data: such links are held until one does, so an erased event is told from an edited one
 * in one pass, and at the end the first link still unexplained is the fault. What is kept grows
 * only with the erased links still awaiting their record (none once each erasure is recorded,
 * which comes right after it in a log the server wrote), the streams of deleted persons, and the
 * last few thousand hashes. Feed it in pieces ({@link check}) so a long log can be verified
 * without holding up other work.
 *
 * What an erasure record cannot prove: the event's fields that are not personal (ids, levels,
 * times) are covered by the digest of the original data only, so a forger who can write the
 * database, rewrite one event into an erased form and append a forged deletion and record after
 * the last signed head could change them too. Signed heads kept elsewhere bound when that can
 * happen; binding each field by its own digest (a chain v2) would close it (docs/audit.md).
 */
export class ChainVerifier {
  private head: { readonly position: number; readonly hash: Digest };
  private checked = 0;
  private headsChecked = 0;
  private fault: ChainReport | undefined;
  private readonly recent = new Map<number, Digest>();
  /**
   * Links whose data does not match its digest and that no erasure has listed yet, in log
   * order: position → the digest of the data they hold (hex; none when it is no erased form, which
   * nothing explains) and the hash of the link before them.
   */
  private readonly unexplained = new Map<
    number,
    { readonly digest: string | undefined; readonly before: Digest }
  >();
  /** The streams of the persons whose deletion the verifier has seen. */
  private readonly deleted = new Set<string>();

  constructor(
    private readonly start: { readonly position: number; readonly hash: Digest },
    private readonly options: VerifyOptions = {},
  ) {
    this.head = start;
  }

  /** Whether the link checked out; after a fault, every further link is refused unchecked. */
  check(link: ChainLink): boolean {
    if (this.fault !== undefined) return false;
    const head = this.head;
    const look = lookAtLink(head, link);
    if (!look.ok) return this.bad(look.position, look.fault, look.detail);
    return this.accept(link, head.hash, look.hash, look.intact, look.held);
  }

  /**
   * Takes a stretch of links that were looked at elsewhere ({@link lookAtLink}, on another
   * thread), in order after the last one taken: only the links it must read
   * ({@link mustRead}) with what was found, the last link of the stretch, and the fault that
   * ended it, if one did. The same report follows as from checking each link.
   */
  take(stretch: LookedStretch): boolean {
    if (this.fault !== undefined) return false;
    for (const looked of stretch.read) {
      this.moveTo(looked.link.position - 1, looked.before);
      const { link, before, hash, intact, held } = looked;
      if (!this.accept(link, before, hash, intact, held)) return false;
    }
    if (stretch.fault !== undefined) {
      const { before, position, fault, detail } = stretch.fault;
      this.moveTo(before.position, before.hash);
      return this.bad(position, fault, detail);
    }
    if (stretch.last !== undefined) this.moveTo(stretch.last.position, stretch.last.hash);
    return true;
  }

  private moveTo(position: number, hash: Digest): void {
    if (position <= this.head.position) return;
    this.head = { position, hash };
    this.checked = position - this.start.position;
  }

  private accept(
    link: ChainLink,
    before: Digest,
    hash: Digest,
    intact: boolean,
    held: string,
  ): boolean {
    // The audit's own records hold no one's personal data: no erasure ever explains them. Nor
    // does one explain data that is not an erased form: such a link is held as a fault (its data
    // not read) only until the erased links before it are explained or not, for the first fault
    // to be named.
    const explainable = intact || (!AUDIT_RECORDS.has(link.type) && this.erasedForm(link));
    if (!intact) {
      this.unexplained.set(link.position, { digest: explainable ? held : undefined, before });
    }
    if (explainable && !this.recordsHold(link)) return false;
    this.head = { position: link.position, hash };
    this.recent.set(link.position, hash);
    // Positions are kept in ascending order: when links were taken sparsely, the first key is
    // the oldest.
    if (this.recent.size > RECENT_HASHES && !this.recent.delete(link.position - RECENT_HASHES)) {
      this.recent.delete(this.recent.keys().next().value ?? 0);
    }
    this.checked = link.position - this.start.position;
    return this.settled();
  }

  /** What the chain's own records (and a deletion) of the link say holds. */
  private recordsHold(link: ChainLink): boolean {
    if (link.type === ERASURE_REQUESTED_EVENT) this.deleted.add(link.stream);
    if (link.type === SIGNED_HEAD_EVENT) return this.signedHeadHolds(link);
    if (link.type === SIGNING_KEY_EVENT) return this.keyIntroduced(link);
    if (link.type === DATA_ERASED_EVENT) this.erasureRecorded(link);
    return true;
  }

  /** Fails when the first link held can no longer be explained (its data is no erased form). */
  private settled(): boolean {
    const first = this.unexplained.entries().next();
    if (first.done === true || first.value[1].digest !== undefined) return true;
    const [position, { before }] = first.value;
    this.unexplained.clear();
    this.fault = {
      ok: false,
      checked: position - this.start.position - 1,
      head: { position: position - 1, hash: before },
      firstBadPosition: position,
      fault: 'data_changed',
      reason: NOT_ERASED_FORM,
      headsChecked: this.headsChecked,
    };
    return false;
  }

  /** What it found so far: a link still unexplained is a fault. */
  report(): ChainReport {
    // The first one held: positions are held in ascending order, and a Map keeps that order.
    const first = this.unexplained.entries().next();
    if (first.done !== true && (this.fault?.firstBadPosition ?? Infinity) > first.value[0]) {
      const [changed, { digest, before }] = first.value;
      // Every link before it verified: positions are consecutive from the start.
      return {
        ok: false,
        checked: changed - this.start.position - 1,
        head: { position: changed - 1, hash: before },
        firstBadPosition: changed,
        fault: 'data_changed',
        reason:
          digest === undefined
            ? NOT_ERASED_FORM
            : 'the data does not match its digest, and no recorded erasure lists it with this data',
        headsChecked: this.headsChecked,
      };
    }
    return (
      this.fault ?? {
        ok: true,
        checked: this.checked,
        head: this.head,
        headsChecked: this.headsChecked,
      }
    );
  }

  /** How many links verified so far (cheaper than a report, for progress). */
  get verified(): number {
    return this.checked;
  }

  private erasedForm(link: ChainLink): boolean {
    try {
      return this.options.erasedForm?.(link.type, textOf(link.data)) ?? false;
    } catch {
      return false;
    }
  }

  private signedHeadHolds(link: ChainLink): boolean {
    const signed = JSON.parse(textOf(link.data)) as SignedHead;
    const head = this.head;
    const atHead =
      this.recent.get(signed.position) ??
      (signed.position === head.position ? head.hash : this.options.hashAt?.(signed.position));
    if (atHead === undefined || atHead.toString('hex') !== signed.hash) {
      return this.bad(
        link.position,
        'head_mismatch',
        `the head signed for position ${signed.position} does not match the chain`,
      );
    }
    if (this.options.signatureValid !== undefined && !this.options.signatureValid(signed)) {
      return this.bad(link.position, 'bad_signature', 'the signed head has no valid signature');
    }
    this.headsChecked += 1;
    return true;
  }

  private keyIntroduced(link: ChainLink): boolean {
    if (this.options.keyIntroduced === undefined) return true;
    try {
      this.options.keyIntroduced(JSON.parse(textOf(link.data)) as IntroducedKey);
      return true;
    } catch (error) {
      return this.bad(
        link.position,
        'bad_signature',
        `the signing key introduced here is not usable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /**
   * An intact erasure, in the stream of a person deleted before it, explains the links it lists,
   * before it, that hold its erased data.
   */
  private erasureRecorded(link: ChainLink): void {
    if (this.start.position === 0 && !this.deleted.has(link.stream)) return;
    let listed: readonly ErasedEvent[];
    try {
      listed = erasedEventsOf(link.position, textOf(link.data));
    } catch {
      return; // Lists nothing: it explains nothing.
    }
    for (const { position, dataDigest } of listed) {
      if (this.unexplained.get(position)?.digest === dataDigest) this.unexplained.delete(position);
    }
  }

  private bad(position: number, fault: NonNullable<ChainReport['fault']>, reason: string): false {
    this.fault = {
      ok: false,
      checked: this.checked,
      head: this.head,
      firstBadPosition: position,
      fault,
      reason,
      headsChecked: this.headsChecked,
    };
    return false;
  }
}
