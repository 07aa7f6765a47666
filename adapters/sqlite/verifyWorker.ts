import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import {
  GENESIS_HASH,
  lookAtLink,
  mustRead,
  type ChainLink,
  type LookedLink,
  type LookedStretch,
} from '../../domain/shared/hashChain.js';
import { LINK_COLUMNS } from './auditLog.js';

/**
 * A thread of a parallel `verify` (adapters/sqlite/parallelVerify.ts): on its own read-only
 * connection to the database, it looks at the links of each stretch it is given, each against
 * the stored hash of the one before it, and sends back what the verifier must read.
 */

/** A stretch to look at: the links after `after`, up to `to` (included). */
export interface StretchRequest {
  readonly id: number;
  readonly after: number;
  readonly to: number;
}

export interface StretchResult {
  readonly id: number;
  readonly stretch: LookedStretch;
}

const port = parentPort;
if (port === null) throw new Error('verifyWorker.ts runs as a worker thread');
const db = new Database((workerData as { readonly file: string }).file, {
  readonly: true,
  fileMustExist: true,
});
const statements = {
  before: db.prepare<[number], { position: number; hash: Buffer | null }>(
    'SELECT position, hash FROM events WHERE position <= ? ORDER BY position DESC LIMIT 1',
  ),
  // Rows as arrays (cheaper than objects with named columns), in the order of LINK_COLUMNS.
  range: db
    .prepare<[number, number], RawLink>(
      `SELECT ${LINK_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position`,
    )
    .raw(true),
};

type RawLink = [
  position: number,
  eventId: string,
  stream: string,
  revision: number,
  type: string,
  data: string,
  metadata: string,
  dataDigest: Buffer | null,
  hash: Buffer | null,
];

const lookAt = ({ after, to }: StretchRequest): LookedStretch => {
  const start = after < 1 ? undefined : statements.before.get(after);
  // A link before the stretch without a hash is the fault of the stretch before.
  let previous = { position: start?.position ?? 0, hash: start?.hash ?? GENESIS_HASH };
  const read: LookedLink[] = [];
  for (const row of statements.range.iterate(after, to)) {
    const [position, eventId, stream, revision, type, data, metadata, dataDigest, hash] = row;
    const link: ChainLink = {
      position,
      eventId,
      stream,
      revision,
      type,
      data,
      metadata,
      dataDigest,
      hash,
    };
    const look = lookAtLink(previous, link);
    if (!look.ok) {
      const { position, fault, detail } = look;
      return { read, fault: { position, fault, detail, before: previous } };
    }
    if (mustRead(link.type, look.intact)) {
      read.push({
        link,
        before: previous.hash,
        hash: look.hash,
        intact: look.intact,
        held: look.held,
      });
    }
    previous = { position: link.position, hash: look.hash };
  }
  return previous.position > after ? { read, last: previous } : { read };
};

port.on('message', (request: StretchRequest) => {
  const result: StretchResult = { id: request.id, stretch: lookAt(request) };
  port.postMessage(result);
});
