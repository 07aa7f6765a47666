import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { ErasableLog, StoredData } from '../../../application/erasure/erasableLog.js';
import { PgAuditLog } from '../../../adapters/postgres/pgAuditLog.js';
import { PgEventStore } from '../../../adapters/postgres/pgEventStore.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import { PgErasableLog } from '../../../adapters/postgres/pgErasableLog.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import { erasePersonalData, personalEventTypes } from '../../../domain/recipient/personalData.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../../domain/shared/eventStore.js';
import { DATA_ERASED_EVENT, digestOf } from '../../../domain/shared/hashChain.js';
import { createTestSchema, requirePostgres, type TestSchema } from '../../support/postgres.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';
import { waitUntil } from '../../support/waitUntil.js';

const event = (type: string, data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: {
    occurredAt: '2026-12-08T10:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    correlationId: 'c',
    causationId: 'c',
    schemaVersion: 1,
  },
});

/** What Alice said and was sent: none of it may be left in a row after her erasure. */
const ALICE = {
  username: 'alice-8f3a1c',
  passwordHash: 'scrypt$alice-hash-77d1',
  deviceName: 'Alice phone 5e2b',
  deviceKey: 'bark-key-alice-93c0',
  title: 'alice-title-4b7e',
  body: 'alice-body-c61d',
  error: 'alice-error-quoting-bark-key-alice-93c0',
  complaint: 'alice-complaint-0fa9',
};

/** One history, as the same appends in the same order: Alice (deleted at the end) and Bob. */
const history = (): readonly (readonly [string, readonly NewEvent[]])[] => [
  [
    'recipient-rcp_a',
    [
      event('RecipientRegistered', {
        recipientId: 'rcp_a',
        username: ALICE.username,
        passwordHash: ALICE.passwordHash,
      }),
      event('RecipientDeviceAdded', {
        recipientId: 'rcp_a',
        deviceId: 'd1',
        kind: 'bark',
        name: ALICE.deviceName,
        settings: { serverUrl: 'https://bark.example' },
        secrets: { deviceKey: ALICE.deviceKey },
        fingerprint: 'fp-alice',
      }),
    ],
  ],
  [
    'recipient-rcp_b',
    [event('RecipientRegistered', { recipientId: 'rcp_b', username: 'bob', passwordHash: 'h-b' })],
  ],
  [
    'message-m1',
    [
      event('MessageSubmitted', {
        messageId: 'm1',
        appId: 'app_1',
        bindingId: 'b1',
        recipientId: 'rcp_a',
        title: ALICE.title,
        body: ALICE.body,
      }),
      event('MessageDeliveryFailed', { messageId: 'm1', channel: 'bark:d1', error: ALICE.error }),
    ],
  ],
  [
    'message-m2',
    [
      event('MessageSubmitted', {
        messageId: 'm2',
        appId: 'app_1',
        bindingId: 'b2',
        recipientId: 'rcp_b',
        body: 'bob-body',
      }),
    ],
  ],
  [
    'complaint-c1',
    [
      event('ComplaintFiled', {
        complaintId: 'c1',
        messageId: 'm1',
        appId: 'app_1',
        recipientId: 'rcp_a',
        category: 'spam',
        reason: ALICE.complaint,
      }),
    ],
  ],
  ['other-1', [event('Other', { recipientId: 'rcp_a', text: 'not personal' })]],
  ['recipient-rcp_a', [event('RecipientErased', { recipientId: 'rcp_a', by: 'self' })]],
];

const append = async (store: EventStore, stream: string, events: readonly NewEvent[]) => {
  const result = await store.appendToStream(stream, events, { expectedRevision: 'any' });
  if (E.isLeft(result)) throw new Error(`append to ${stream} refused`);
  return result.right;
};

/** Alice's personal events with their data erased, as the erasure processor finds them. */
const changesOf = async (log: ErasableLog) => {
  const streams = [
    'recipient-rcp_a',
    ...(await log.streamsWith('MessageSubmitted', 'recipientId', 'rcp_a')),
    ...(await log.streamsWith('ComplaintFiled', 'recipientId', 'rcp_a')),
  ];
  const changes: { position: number; data: Record<string, unknown> }[] = [];
  for (const stored of await log.eventsOf(streams, personalEventTypes)) {
    const data = erasePersonalData(stored.type, stored.data);
    if (data !== undefined) changes.push({ position: stored.position, data });
  }
  return changes;
};

/** The record an erasure writes before it rewrites: the positions and their erased digests. */
const recordOf = (changes: readonly { position: number; data: unknown }[]): NewEvent =>
  event(DATA_ERASED_EVENT, {
    recipientId: 'rcp_a',
    events: changes.map(({ position, data }) => ({
      position,
      dataDigest: digestOf(JSON.stringify(data)).toString('hex'),
    })),
  });

const chainColumns = async (pool: PgPool) =>
  (
    await pool.query<{ position: number; data_digest: Buffer; hash: Buffer }>(
      'SELECT position::float8 AS position, data_digest, hash FROM tidings_events ORDER BY position',
    )
  ).rows.map(
    (row) => `${row.position}:${row.data_digest.toString('hex')}:${row.hash.toString('hex')}`,
  );

/** Rows of the events table whose data holds `text` (every live row a query can see). */
const rowsHolding = async (pool: PgPool, text: string): Promise<number[]> =>
  (
    await pool.query<{ position: number }>(
      `SELECT position::float8 AS position FROM tidings_events WHERE data LIKE '%' || $1 || '%'`,
      [text],
    )
  ).rows.map(({ position }) => position);

/**
 * The schema of the `pageinspect` functions, installed into the test's own schema if the
 * database has it and the user may (it goes with the schema); why not otherwise.
 */
const pageInspection = async (
  pool: PgPool,
  schema: string,
): Promise<string | { readonly reason: string }> => {
  try {
    await pool.query(`CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA ${schema}`);
    const { rows } = await pool.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pageinspect'`,
    );
    return rows[0]?.schema ?? { reason: 'not installed' };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
};

/**
 * Row versions of the events table, live or dead, whose bytes hold `text`, read off its pages
 * (freed space between them is not looked at: docs/audit.md says what it may hold).
 */
const tuplesHolding = async (pool: PgPool, functions: string, text: string): Promise<number> => {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n
       FROM generate_series(0, (pg_relation_size('tidings_events')
                                / current_setting('block_size')::int)::int - 1) AS page,
            LATERAL ${functions}.heap_page_items(${functions}.get_raw_page('tidings_events', page)) AS item
      WHERE item.t_data IS NOT NULL AND position(convert_to($1, 'UTF8') IN item.t_data) > 0`,
    [text],
  );
  return rows[0]?.n ?? 0;
};

describe('PostgreSQL erasable log: the same answers and rewrites as the embedded one', function () {
  this.timeout(60_000);
  let schema: TestSchema | undefined;
  let temp: TempStore | undefined;
  let pgStore: PgEventStore | undefined;
  let pool: PgPool;
  let started = false;

  before(async function () {
    await requirePostgres(this);
    started = true;
    schema = await createTestSchema();
    pool = schema.pool(4);
    pgStore = await PgEventStore.open(pool, { pollIntervalMs: 200 });
    temp = openTempStore();
    for (const [stream, events] of history()) {
      await append(temp.store, stream, events);
      await append(pgStore, stream, events);
    }
  });
  after(async () => {
    if (!started) return;
    await pgStore?.close();
    await schema?.drop();
    await temp?.dispose();
  });

  const sqlite = (): ErasableLog => (temp as TempStore).store.erasure;
  const postgres = (): ErasableLog => (pgStore as PgEventStore).erasure;

  const both = async <T>(ask: (log: ErasableLog) => T | Promise<T>): Promise<T> => {
    const fromSqlite = await ask(sqlite());
    expect(await ask(postgres())).to.deep.equal(fromSqlite);
    return fromSqlite;
  };

  it('finds the same streams, deleted persons, subjects and events', async () => {
    const sorted = (streams: readonly string[]) => [...streams].sort();
    expect(
      await both(async (log) =>
        sorted(await log.streamsWith('MessageSubmitted', 'recipientId', 'rcp_a')),
      ),
    ).to.deep.equal(['message-m1']);
    expect(
      await both(async (log) =>
        sorted(await log.streamsWith('ComplaintFiled', 'recipientId', 'rcp_a')),
      ),
    ).to.deep.equal(['complaint-c1']);
    expect(
      await both(async (log) =>
        sorted(await log.streamsWith('MessageSubmitted', 'recipientId', 'nobody')),
      ),
    ).to.deep.equal([]);
    expect(await both((log) => log.erasedRecipients())).to.deep.equal(['rcp_a']);
    expect(await both((log) => log.recipientOf('message-m1'))).to.equal('rcp_a');
    expect(await both((log) => log.recipientOf('complaint-c1'))).to.equal('rcp_a');
    expect(await both((log) => log.recipientOf('other-1'))).to.equal(undefined);
    const events: readonly StoredData[] = await both((log) =>
      log.eventsOf(['recipient-rcp_a', 'message-m1', 'complaint-c1'], personalEventTypes),
    );
    expect(events.map(({ type }) => type)).to.deep.equal([
      'RecipientRegistered',
      'RecipientDeviceAdded',
      'MessageSubmitted',
      'MessageDeliveryFailed',
      'ComplaintFiled',
    ]);
    expect(await both((log) => log.eventsOf([], personalEventTypes))).to.deep.equal([]);
  });

  it("finds a person's submissions through the recipient index, not by parsing every one", async () => {
    // The statement streamsWith sends, caught on its way to the pool.
    const sent: Array<{ text: string; values: unknown[] }> = [];
    const watching = new Proxy(pool, {
      get: (target, name, receiver): unknown =>
        name === 'query'
          ? (text: string, values: unknown[]) => {
              sent.push({ text, values });
              return target.query(text, values);
            }
          : Reflect.get(target, name, receiver),
    });
    const log = new PgErasableLog(watching, { channel: 'unused', rewritten: () => undefined });
    expect(await log.streamsWith('MessageSubmitted', 'recipientId', 'rcp_a')).to.deep.equal([
      'message-m1',
    ]);
    const statement = sent.at(-1);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The test log is small enough for a scan to be cheaper: only the index's usability counts.
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query(`PREPARE find_streams AS ${statement?.text ?? ''}`);
      const literals = (statement?.values ?? []).map((value) =>
        client.escapeLiteral(String(value)),
      );
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE find_streams(${literals.join(', ')})`,
      );
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).to.contain(
        'tidings_events_by_recipient',
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('rewrites the same data under the same digests, and both chains still verify', async () => {
    const changes = await both(changesOf);
    expect(changes).to.have.length(5);
    const chainBefore = await chainColumns(pool);
    const record = recordOf(changes);
    await append((temp as TempStore).store, 'recipient-rcp_a', [record]);
    await append(pgStore as PgEventStore, 'recipient-rcp_a', [record]);
    await sqlite().rewrite(changes);
    await postgres().rewrite(changes);

    const after = await both((log) =>
      log.eventsOf(['recipient-rcp_a', 'message-m1', 'complaint-c1'], personalEventTypes),
    );
    expect(after.map(({ data }) => data)).to.deep.equal(changes.map(({ data }) => data));
    expect(await both(changesOf), 'erasing again changes nothing').to.deep.equal([]);
    // The chain's columns are as first written; only the data changed.
    expect((await chainColumns(pool)).slice(0, chainBefore.length)).to.deep.equal(chainBefore);
    const fromSqlite = await new SqliteAuditLog((temp as TempStore).db).verify({});
    const fromPostgres = await new PgAuditLog(pool).verify({});
    expect(fromPostgres, JSON.stringify(fromPostgres)).to.deep.include({ ok: true });
    expect(fromSqlite, JSON.stringify(fromSqlite)).to.deep.include({ ok: true });
    expect(fromPostgres.checked).to.equal(fromSqlite.checked);
    expect(fromPostgres.head.hash.toString('hex')).to.equal(fromSqlite.head.hash.toString('hex'));

    for (const text of Object.values(ALICE)) {
      expect(await rowsHolding(pool, text), text).to.deep.equal([]);
    }
    expect(await rowsHolding(pool, 'bob-body')).to.have.length(1);
  });

  it("the rewrite's VACUUM leaves no row version holding the old data; without it a dead one does", async function () {
    const functions = await pageInspection(pool, (schema as TestSchema).schema);
    if (typeof functions !== 'string') {
      console.log(`      skipped: pageinspect is not usable here (${functions.reason})`);
      this.skip();
    }
    for (const text of Object.values(ALICE)) {
      expect(await tuplesHolding(pool, functions, text), text).to.equal(0);
    }
    expect(await tuplesHolding(pool, functions, 'bob-body'), 'the search works').to.equal(1);
    // An UPDATE alone leaves the old version behind, dead but whole: what the VACUUM prunes.
    await pool.query(
      `UPDATE tidings_events SET data = '{"text":"replaced"}' WHERE stream = 'other-1'`,
    );
    expect(await tuplesHolding(pool, functions, 'not personal')).to.equal(1);
  });

  it('an empty rewrite does nothing', async () => {
    const before = await chainColumns(pool);
    await postgres().rewrite([]);
    expect(await chainColumns(pool)).to.deep.equal(before);
  });
});

describe('PostgreSQL event store: what the nodes keep in memory after an erasure', function () {
  this.timeout(60_000);
  let schema: TestSchema | undefined;
  const stores: PgEventStore[] = [];
  let started = false;

  before(async function () {
    await requirePostgres(this);
    started = true;
    schema = await createTestSchema();
  });
  after(async () => {
    if (!started) return;
    await Promise.all(stores.map((store) => store.close()));
    await schema?.drop();
  });

  /** A node with its recent window on; the other nodes' commits reach it by their notices. */
  const node = async (): Promise<PgEventStore> => {
    const store = await PgEventStore.open((schema as TestSchema).pool(4), { pollIntervalMs: 200 });
    stores.push(store);
    return store;
  };

  /** The body of the first message the events hold. */
  const bodyOf = (events: readonly RecordedEvent[]): unknown => {
    const submitted = events.find((recorded) => recorded.type === 'MessageSubmitted');
    return (submitted?.data as { readonly body?: unknown } | undefined)?.body;
  };

  it('neither the erasing node nor another hands out the old data from memory', async () => {
    const a = await node();
    const b = await node();
    const rewrites = { a: 0, b: 0 };
    a.onRewritten(() => (rewrites.a += 1));
    b.onRewritten(() => (rewrites.b += 1));
    for (const [stream, events] of history()) await append(a, stream, events);
    // Both nodes hold the history in memory and answer from it: the stream's head is known.
    for (const store of [a, b]) {
      await store.headPosition();
      expect(bodyOf(await store.readStream('message-m1'))).to.equal(ALICE.body);
      expect(bodyOf(await store.readAll({ maxCount: 100 }))).to.equal(ALICE.body);
    }
    const changes = await changesOf(a.erasure);
    await append(a, 'recipient-rcp_a', [recordOf(changes)]);
    await a.erasure.rewrite(changes);

    for (const [index, store] of [a, b].entries()) {
      // A request reads the head first (composition/readBarrier.ts): the node catches up.
      await store.headPosition();
      const what = `node ${index === 0 ? 'a (erasing)' : 'b'}`;
      expect(bodyOf(await store.readStream('message-m1')), `${what}: readStream`).to.equal(
        '[erased]',
      );
      expect(
        bodyOf(await store.readStream('message-m1', { fromRevision: 0 })),
        `${what}: readStream from 0`,
      ).to.equal('[erased]');
      const all = await store.readAll({ maxCount: 100 });
      expect(bodyOf(all), `${what}: readAll`).to.equal('[erased]');
      expect(JSON.stringify(all.map((recorded) => recorded.data))).to.not.include(ALICE.username);
      const subscription = store.subscribe({ eventTypes: ['MessageSubmitted'] });
      const seen: RecordedEvent[] = [];
      for await (const batch of subscription) {
        seen.push(...batch);
        if (seen.length >= 2) break;
      }
      await subscription.close();
      expect(bodyOf(seen), `${what}: a subscription from the start`).to.equal('[erased]');
    }
    // Each node heard the rewrite's notice, sent when it committed.
    await waitUntil(
      () => rewrites,
      (counts) => counts.a >= 1 && counts.b >= 1,
      'both nodes to hear the rewrite',
    );
  });
});
