import { expect } from 'chai';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import { DATABASE_FILE } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import type { NewEvent } from '../../../domain/shared/eventStore.js';
import {
  chainHash,
  digestOf,
  GENESIS_HASH,
  type ChainReport,
} from '../../../domain/shared/hashChain.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const event = (data: unknown, type = 'Chained'): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: {
    occurredAt: '2026-12-04T10:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    correlationId: 'c',
    causationId: 'c',
    schemaVersion: 1,
  },
});

/** Appends `count` events, one per stream, `perCommit` at a time (group commits). */
const appendMany = async (
  temp: TempStore,
  count: number,
  perCommit = 10,
  prefix = 'chain',
): Promise<void> => {
  for (let start = 0; start < count; start += perCommit) {
    const outcomes = await Promise.all(
      Array.from({ length: Math.min(perCommit, count - start) }, (_, k) =>
        temp.store.appendToStream(
          `${prefix}-${start + k}`,
          [event({ n: start + k, text: '消息' })],
          {
            expectedRevision: 'no_stream',
          },
        ),
      ),
    );
    expect(outcomes.every(E.isRight)).to.equal(true);
  }
};

const verifyOf = (temp: TempStore, range = {}): Promise<ChainReport> =>
  new SqliteAuditLog(temp.db).verify(range);

describe('SQLite store: the hash chain', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('chains every appended event to the one before it, as hashChain.ts defines', async () => {
    await appendMany(temp, 25);
    const rows = temp.db
      .prepare<
        [],
        {
          position: number;
          event_id: string;
          stream: string;
          revision: number;
          type: string;
          data: string;
          metadata: string;
          data_digest: Buffer;
          hash: Buffer;
        }
      >('SELECT * FROM events ORDER BY position')
      .all();
    expect(rows).to.have.length(25);
    let previous = GENESIS_HASH;
    for (const row of rows) {
      expect(row.data_digest.equals(digestOf(row.data))).to.equal(true);
      const expected = chainHash(previous, {
        position: row.position,
        eventId: row.event_id,
        stream: row.stream,
        revision: row.revision,
        type: row.type,
        dataDigest: row.data_digest,
        metadata: row.metadata,
      });
      expect(row.hash.toString('hex')).to.equal(expected.toString('hex'));
      previous = row.hash;
    }
    const report = await verifyOf(temp);
    expect(report).to.include({ ok: true, checked: 25 });
    expect(report.head.position).to.equal(25);
    expect(report.head.hash.equals(previous)).to.equal(true);
  });

  it('keeps the chain whole when an append of a group commit is refused and rolled back', async () => {
    await temp.store.appendToStream('taken', [event({})], { expectedRevision: 'no_stream' });
    const outcomes = await Promise.all([
      temp.store.appendToStream('a', [event({ a: 1 }), event({ a: 2 })], {
        expectedRevision: 'no_stream',
      }),
      // Refused: the stream exists. Its savepoint is rolled back between two good appends.
      temp.store.appendToStream('taken', [event({ late: true })], {
        expectedRevision: 'no_stream',
      }),
      temp.store.appendToStream('b', [event({ b: 1 })], { expectedRevision: 'no_stream' }),
    ]);
    expect(outcomes.map(E.isRight)).to.deep.equal([true, false, true]);
    expect(await verifyOf(temp)).to.include({ ok: true, checked: 4 });
  });

  it('keeps the chain whole when an append of a group commit fails after inserting some of its events', async () => {
    const outcomes = await Promise.allSettled([
      temp.store.appendToStream('a', [event({ a: 1 })], { expectedRevision: 'no_stream' }),
      // Its first event is inserted, then its second cannot be serialised (BigInt): the savepoint
      // takes the first back, and the next append must chain to 'a', not to the row undone.
      temp.store.appendToStream('half', [event({ h: 1 }), event({ h: 2n })], {
        expectedRevision: 'no_stream',
      }),
      temp.store.appendToStream('b', [event({ b: 1 })], { expectedRevision: 'no_stream' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(await temp.store.readStream('half')).to.have.length(0);
    const [b] = await temp.store.readStream('b');
    expect(b?.position.commit).to.equal(2n);
    expect(await verifyOf(temp)).to.include({ ok: true, checked: 2 });
  });

  it('verifies a range: from and to bound what is checked', async () => {
    await appendMany(temp, 30);
    expect(await verifyOf(temp, { from: 10, to: 20 })).to.include({ ok: true, checked: 11 });
    expect((await verifyOf(temp, { from: 10, to: 20 })).head.position).to.equal(20);
  });
});

describe('SQLite store: verify names the first bad position of a tampered log', () => {
  let temp: TempStore;
  beforeEach(async () => {
    temp = openTempStore();
    await appendMany(temp, 50);
    // Tampering happens to the file of a stopped server.
    await temp.close();
    temp = openTempStore(temp.dir);
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('an untouched log verifies', async () => {
    expect(await verifyOf(temp)).to.include({ ok: true, checked: 50 });
  });

  it("one event's data changed", async () => {
    temp.db.prepare('UPDATE events SET data = \'{"n":999}\' WHERE position = 17').run();
    expect(await verifyOf(temp)).to.include({
      ok: false,
      firstBadPosition: 17,
      fault: 'data_changed',
      checked: 16,
    });
  });

  it("one event's data and digest changed together", async () => {
    const data = '{"n":999}';
    temp.db
      .prepare('UPDATE events SET data = ?, data_digest = ? WHERE position = 17')
      .run(data, digestOf(data));
    expect(await verifyOf(temp)).to.include({
      ok: false,
      firstBadPosition: 17,
      fault: 'hash_mismatch',
    });
  });

  it("one event's metadata changed", async () => {
    temp.db
      .prepare(
        "UPDATE events SET metadata = replace(metadata, 'test', 'mallory') WHERE position = 30",
      )
      .run();
    expect(await verifyOf(temp)).to.include({
      ok: false,
      firstBadPosition: 30,
      fault: 'hash_mismatch',
    });
  });

  it('one row deleted', async () => {
    temp.db.prepare('DELETE FROM events WHERE position = 23').run();
    expect(await verifyOf(temp)).to.include({ ok: false, firstBadPosition: 23, fault: 'missing' });
  });

  it("two rows' payloads swapped", async () => {
    const rows = temp.db
      .prepare<[], { position: number; data: string; data_digest: Buffer }>(
        'SELECT position, data, data_digest FROM events WHERE position IN (12, 40)',
      )
      .all();
    const [twelve, forty] = rows;
    if (twelve === undefined || forty === undefined) throw new Error('rows missing');
    const swap = temp.db.prepare('UPDATE events SET data = ?, data_digest = ? WHERE position = ?');
    swap.run(forty.data, forty.data_digest, 12);
    swap.run(twelve.data, twelve.data_digest, 40);
    expect(await verifyOf(temp)).to.include({
      ok: false,
      firstBadPosition: 12,
      fault: 'hash_mismatch',
    });
  });

  it('a forged row inserted at the end', async () => {
    const forged = event({ forged: true });
    const data = JSON.stringify(forged.data);
    temp.db
      .prepare(
        'INSERT INTO events (position, event_id, stream, revision, type, data, metadata, data_digest, hash) VALUES (51, ?, ?, 0, ?, ?, ?, ?, ?)',
      )
      .run(
        forged.id,
        'forged',
        forged.type,
        data,
        JSON.stringify(forged.metadata),
        digestOf(data),
        Buffer.alloc(32, 7),
      );
    expect(await verifyOf(temp)).to.include({
      ok: false,
      firstBadPosition: 51,
      fault: 'hash_mismatch',
    });
  });

  it('a row moved to a later position', async () => {
    temp.db.prepare('UPDATE events SET position = 60 WHERE position = 5').run();
    expect(await verifyOf(temp)).to.include({ ok: false, firstBadPosition: 5, fault: 'missing' });
  });

  it('a row without a hash', async () => {
    temp.db.prepare('UPDATE events SET hash = NULL WHERE position = 8').run();
    expect(await verifyOf(temp)).to.include({ ok: false, firstBadPosition: 8, fault: 'unchained' });
  });
});

/**
 * Turns a temp store's folder into one an older build wrote (schema 6, before the chain): the
 * chain's columns dropped, the schema version set back.
 */
const makeOldBuildFolder = (dir: string): void => {
  const db = new Database(join(dir, DATABASE_FILE));
  db.exec(`ALTER TABLE events DROP COLUMN hash;
    ALTER TABLE events DROP COLUMN data_digest;
    DELETE FROM folder_facts WHERE name = 'unchained_through';`);
  db.pragma('user_version = 6');
  db.close();
};

const hashesOf = (temp: TempStore): string[] =>
  temp.db
    .prepare<[], { hash: Buffer | null }>('SELECT hash FROM events ORDER BY position')
    .all()
    .map((row) => row.hash?.toString('hex') ?? 'none');

describe('SQLite store: a log written before the chain is chained at the first start', () => {
  it('chains the old events once, in order, and new appends continue the chain', async () => {
    let temp = openTempStore();
    try {
      await appendMany(temp, 20);
      const chained = hashesOf(temp);
      await temp.close();
      makeOldBuildFolder(temp.dir);
      temp = openTempStore(temp.dir);
      expect(temp.store.chainedAtOpen).to.equal(20);
      expect(hashesOf(temp)).to.deep.equal(chained);
      await appendMany(temp, 5, 5, 'later');
      expect(await verifyOf(temp)).to.include({ ok: true, checked: 25 });
      expect(new SqliteEventStore(temp.db).chainedAtOpen).to.equal(0);
    } finally {
      await temp.dispose();
    }
  });

  it('a start that stopped halfway goes on from the first row without a hash', async () => {
    let temp = openTempStore();
    try {
      await appendMany(temp, 30);
      const chained = hashesOf(temp);
      await temp.close();
      makeOldBuildFolder(temp.dir);
      temp = openTempStore(temp.dir);
      // As a start killed after its first batches left it: the rows after 12 not chained yet.
      temp.db
        .prepare('UPDATE events SET data_digest = NULL, hash = NULL WHERE position > 12')
        .run();
      temp.db
        .prepare("INSERT INTO folder_facts (name, value) VALUES ('unchained_through', '30')")
        .run();
      await temp.close();
      temp = openTempStore(temp.dir);
      expect(temp.store.chainedAtOpen).to.equal(18);
      expect(hashesOf(temp)).to.deep.equal(chained);
      expect(await verifyOf(temp)).to.include({ ok: true, checked: 30 });
    } finally {
      await temp.dispose();
    }
  });

  it('never chains a row of the chained log after the fact: an edit with its hash removed stays a fault', async () => {
    let temp = openTempStore();
    try {
      await appendMany(temp, 20);
      temp.db
        .prepare(
          'UPDATE events SET data = \'{"n":7,"text":"forged"}\', hash = NULL WHERE position = 8',
        )
        .run();
      await temp.close();
      temp = openTempStore(temp.dir);
      expect(temp.store.chainedAtOpen).to.equal(0);
      expect(hashesOf(temp)[7]).to.equal('none');
      expect(await verifyOf(temp)).to.include({
        ok: false,
        firstBadPosition: 8,
        fault: 'unchained',
      });
    } finally {
      await temp.dispose();
    }
  });
});
