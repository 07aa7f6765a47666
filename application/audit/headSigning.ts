import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../domain/shared/eventStore.js';
import {
  GENESIS_HASH,
  SIGNED_HEAD_EVENT,
  SIGNING_KEY_EVENT,
  type IntroducedKey,
  type SignedHead,
} from '../../domain/shared/hashChain.js';
import type { AuditLog } from './auditLog.js';

/** The stream the server's signed heads and signing keys are appended to. */
export const SIGNED_HEADS_STREAM = 'audit-heads';

/** Signs a head with the server's key (adapters/security/headSignatures.ts). */
export interface Signer {
  readonly key: IntroducedKey;
  sign(position: number, hash: string, signedAt: string): SignedHead;
}

/** Appends one event of the audit machinery itself to {@link SIGNED_HEADS_STREAM}. */
const appendAuditEvent = async (
  store: EventStore,
  type: string,
  data: unknown,
  now: string,
): Promise<void> => {
  const correlationId = randomUUID();
  await store.appendToStream(
    SIGNED_HEADS_STREAM,
    [
      {
        id: randomUUID(),
        type,
        data,
        metadata: {
          occurredAt: now,
          actor: { kind: 'system', id: 'audit' },
          correlationId,
          causationId: correlationId,
          schemaVersion: 1,
        },
      },
    ],
    { expectedRevision: 'any' },
  );
};

/** What {@link introduceSigningKey} found in the log and did. */
export interface KeyIntroduction {
  /** Whether the key was new to the log and is now introduced. */
  readonly introduced: boolean;
  /** The key of the last head signed before, when another key signed it. */
  readonly lastHeadKeyId?: string;
}

/**
 * Introduces the signer's public key to the log (an `AuditKeyIntroduced` event) unless the log
 * has it already, before the key signs any head: a head stays checkable by the key that signed
 * it, also after the key file was lost or replaced and the server made a new one.
 */
export const introduceSigningKey = async (deps: {
  readonly audit: AuditLog;
  readonly store: EventStore;
  readonly signer: Signer;
  readonly now: string;
}): Promise<KeyIntroduction> => {
  const known = (
    await deps.audit.events({
      types: [SIGNING_KEY_EVENT],
      stream: SIGNED_HEADS_STREAM,
      limit: 1_000_000,
    })
  ).some((event) => (JSON.parse(event.data) as IntroducedKey).keyId === deps.signer.key.keyId);
  if (known) return { introduced: false };
  const lastHead = (
    await deps.audit.events({
      types: [SIGNED_HEAD_EVENT],
      stream: SIGNED_HEADS_STREAM,
      before: Number.MAX_SAFE_INTEGER,
      limit: 1,
    })
  )[0];
  await appendAuditEvent(deps.store, SIGNING_KEY_EVENT, deps.signer.key, deps.now);
  const lastHeadKeyId =
    lastHead === undefined ? undefined : (JSON.parse(lastHead.data) as SignedHead).keyId;
  return {
    introduced: true,
    ...(lastHeadKeyId === undefined || lastHeadKeyId === deps.signer.key.keyId
      ? {}
      : { lastHeadKeyId }),
  };
};

/**
 * Signs the log's chain head and appends the signed head to the log itself (docs/audit.md,
 * "Signed heads"): from then on the log proves that everything up to that head is unchanged to
 * anyone who kept the head. A head already signed by this key is not signed again: while nothing
 * but the last signed head was appended, the answer is that head, so an idle log does not grow by
 * one event a minute. With `anyKey` (the minute's signing), a head signed by any key counts: on
 * EventStoreDB every node signs with its own key, and each signing the others' head again would
 * grow an idle log for ever.
 */
export const signHead = (deps: {
  readonly audit: AuditLog;
  readonly store: EventStore;
  readonly signer: Signer;
}): ((now: string, options?: { readonly anyKey?: boolean }) => Promise<SignedHead>) => {
  // One signing at a time (per kind of ask): callers that ask meanwhile get the head it signs.
  const signing = new Map<boolean, Promise<SignedHead>>();
  const budget = signingBudget();
  const signOnce = async (now: string, anyKey: boolean): Promise<SignedHead> => {
    const last = (await deps.audit.events({ before: Number.MAX_SAFE_INTEGER, limit: 1 }))[0];
    if (last?.type === SIGNED_HEAD_EVENT) {
      const signed = JSON.parse(last.data) as SignedHead;
      if (
        signed.position === last.position - 1 &&
        (anyKey || signed.keyId === deps.signer.key.keyId)
      ) {
        return signed;
      }
    }
    if (!budget.take(Date.parse(now))) {
      const latest = await lastSignedBy(deps.audit, deps.signer.key.keyId);
      if (latest !== undefined) return latest;
    }
    const head = {
      position: last?.position ?? 0,
      hash: (last?.hash ?? GENESIS_HASH).toString('hex'),
    };
    const signed = deps.signer.sign(head.position, head.hash, now);
    await appendAuditEvent(deps.store, SIGNED_HEAD_EVENT, signed, now);
    return signed;
  };
  return (now, options = {}) => {
    const anyKey = options.anyKey === true;
    let pending = signing.get(anyKey);
    if (pending === undefined) {
      pending = signOnce(now, anyKey).finally(() => {
        signing.delete(anyKey);
      });
      signing.set(anyKey, pending);
    }
    return pending;
  };
};

/**
 * Heads signed at once beyond the minute's, and how fast that allowance comes back: asked more
 * often, the answer is the last head signed (its `signedAt` says when), so a caller polling the
 * route on a busy log adds at most ten events a minute to it, not one a request.
 */
const SIGNING_BURST = 10;
const SIGNING_REFILL_MS = 6_000;

const signingBudget = (): { take(atMs: number): boolean } => {
  let tokens = SIGNING_BURST;
  let since = Number.NEGATIVE_INFINITY;
  return {
    take(atMs) {
      if (Number.isFinite(since)) {
        tokens = Math.min(SIGNING_BURST, tokens + Math.max(0, atMs - since) / SIGNING_REFILL_MS);
      }
      since = atMs;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
};

/** The last head the log holds signed, by any key. */
export const lastSignedHead = async (audit: AuditLog): Promise<SignedHead | undefined> => {
  const last = (
    await audit.events({
      types: [SIGNED_HEAD_EVENT],
      before: Number.MAX_SAFE_INTEGER,
      limit: 1,
    })
  )[0];
  return last === undefined ? undefined : (JSON.parse(last.data) as SignedHead);
};

/** The last head the log holds signed by `keyId`. */
const lastSignedBy = async (audit: AuditLog, keyId: string): Promise<SignedHead | undefined> => {
  const signed = await lastSignedHead(audit);
  return signed?.keyId === keyId ? signed : undefined;
};
