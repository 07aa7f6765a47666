import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditLog, AuditQuery } from '../../../application/audit/auditLog.js';
import { PgAuditLog } from '../../../adapters/postgres/pgAuditLog.js';
import { PgEventStore } from '../../../adapters/postgres/pgEventStore.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import type { EventStore, NewEvent } from '../../../domain/shared/eventStore.js';
import { createTestSchema, requirePostgres, type TestSchema } from '../../support/postgres.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

/** Events in the history beyond one page of `scan` (5,000), so that paging is crossed. */
const BULK = 5_400;
const BATCH = 200;

const timeOf = (index: number): string =>
  new Date(Date.UTC(2025, 0, 1) + Math.floor(index / 3) * 1_000).toISOString();

const eventOf = (index: number, type: string, data: Record<string, unknown>): NewEvent => {
  const correlationId = `c-${index}`;
  return {
    id: `e-${index}-${randomUUID()}`,
    type,
    data,
    metadata: {
      occurredAt: timeOf(index),
      actor: { kind: 'system', id: 'test' },
      correlationId,
      causationId: correlationId,
      schemaVersion: 1,
    },
  };
};

/** One history, as the same appends in the same order: [stream, events] per append. */
const history = (): readonly (readonly [string, readonly NewEvent[]])[] => {
  const appends: [string, NewEvent[]][] = [];
  let index = 0;
  for (let message = 0; message < 30; message += 1) {
    const messageId = `m-${message % 10}`;
    const stream = `message-${messageId}`;
    appends.push([
      stream,
      [
        eventOf(index++, 'MessageSubmitted', { messageId, appId: `a-${message % 3}` }),
        eventOf(index++, 'MessageRouted', { messageId }),
      ],
    ]);
    if (message % 4 === 0) {
      appends.push([
        `complaint-${message}`,
        [eventOf(index++, 'ComplaintFiled', { messageId, category: 'spam' })],
      ]);
    }
    appends.push([`app-a-${message % 3}`, [eventOf(index++, 'ReputationChanged', { n: message })]]);
  }
  for (let start = 0; start < BULK; start += BATCH) {
    appends.push([
      `bulk-${(start / BATCH) % 4}`,
      Array.from({ length: BATCH }, () => eventOf(index++, 'Bulk', { n: index })),
    ]);
  }
  appends.push(['message-m-3', [eventOf(index++, 'MessageRecalled', { messageId: 'm-3' })]]);
  return appends;
};

const append = async (store: EventStore, stream: string, events: readonly NewEvent[]) => {
  const result = await store.appendToStream(stream, events, { expectedRevision: 'any' });
  if (result._tag === 'Left') throw new Error(`append to ${stream} refused`);
};

/** Buffers as hex, so that a difference reads as one. */
const plain = (events: readonly AuditEvent[]) =>
  events.map((event) => ({
    ...event,
    dataDigest: event.dataDigest.toString('hex'),
    hash: event.hash.toString('hex'),
    previousHash: event.previousHash.toString('hex'),
  }));

const collect = async (events: Iterable<AuditEvent> | AsyncIterable<AuditEvent>) => {
  const all: AuditEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};

describe('PostgreSQL audit log: the same answers as the embedded one', function () {
  this.timeout(120_000);
  let schema: TestSchema | undefined;
  let temp: TempStore | undefined;
  let pgStore: PgEventStore | undefined;
  let pool: PgPool;
  let sqlite: SqliteAuditLog;
  let postgres: PgAuditLog;
  let total = 0;

  before(async function () {
    await requirePostgres(this);
    schema = await createTestSchema();
    pool = schema.pool(4);
    pgStore = await PgEventStore.open(pool, { pollIntervalMs: 200 });
    temp = openTempStore();
    sqlite = new SqliteAuditLog(temp.db, {}, { threads: 1 });
    postgres = new PgAuditLog(pool);
  });
  after(async () => {
    await pgStore?.close();
    await schema?.drop();
    await temp?.dispose();
  });

  const both = async <T>(ask: (log: AuditLog) => T | Promise<T>): Promise<T> => {
    const fromSqlite = await ask(sqlite);
    const fromPostgres = await ask(postgres);
    expect(fromPostgres).to.deep.equal(fromSqlite);
    return fromSqlite;
  };
  const sameEvents = async (query: AuditQuery): Promise<readonly AuditEvent[]> => {
    const fromSqlite = sqlite.events(query);
    const fromPostgres = await postgres.events(query);
    expect(plain(fromPostgres), JSON.stringify(query)).to.deep.equal(plain(fromSqlite));
    return fromSqlite;
  };

  it('an empty log: no head, no range, no events, and it verifies', async () => {
    expect(await both((log) => log.head())).to.equal(undefined);
    expect(await both((log) => log.positionRange({}))).to.equal(undefined);
    expect(await sameEvents({ limit: 10 })).to.deep.equal([]);
    expect((await postgres.verify({})).ok).to.equal(true);
  });

  it('the same history appended to both gives the same events, with their chain fields', async () => {
    for (const [stream, events] of history()) {
      await append(temp?.store as EventStore, stream, events);
      await append(pgStore as EventStore, stream, events);
      total += events.length;
    }
    const all = await sameEvents({ limit: 100_000 });
    expect(all).to.have.length(total);
    expect(all.map((event) => event.position)).to.deep.equal(
      Array.from({ length: total }, (_, index) => index + 1),
    );
  });

  it('filters: types, stream, messageId, since and until, alone and together', async () => {
    const queries: AuditQuery[] = [
      { limit: 50 },
      { types: ['MessageSubmitted'], limit: 1_000 },
      { types: ['MessageRouted', 'ComplaintFiled'], limit: 1_000 },
      { types: [], limit: 20 },
      { stream: 'message-m-3', limit: 1_000 },
      { stream: 'no-such-stream', limit: 1_000 },
      { messageId: 'm-4', limit: 1_000 },
      { since: timeOf(30), limit: 40 },
      { until: timeOf(30), limit: 1_000 },
      { since: timeOf(12), until: timeOf(45), limit: 1_000 },
      { since: '2025-01-01T00:00:10.000Z', until: '2025-01-01T00:00:10.000Z', limit: 1_000 },
      { stream: 'app-a-1', since: timeOf(20), types: ['ReputationChanged'], limit: 1_000 },
      { stream: 'bulk-2', after: 3_000, limit: 7 },
      { since: '2030-01-01T00:00:00.000Z', limit: 10 },
    ];
    for (const query of queries) await sameEvents(query);
    // Three submissions with their routings, and the recall.
    expect(await sameEvents({ messageId: 'm-3', limit: 1_000 })).to.have.length(7);
    expect(
      await sameEvents({ messageId: 'm-0', types: ['ComplaintFiled'], limit: 9 }),
    ).to.have.length(2);
  });

  it('pages forwards with after and backwards with before, the same on both', async () => {
    for (const filter of [{}, { types: ['MessageRouted', 'Bulk'] }, { stream: 'bulk-1' }]) {
      const forwards: AuditEvent[] = [];
      let after: number | undefined;
      for (;;) {
        const page = await sameEvents({
          ...filter,
          ...(after === undefined ? {} : { after }),
          limit: 997,
        });
        forwards.push(...page);
        if (page.length < 997) break;
        after = page.at(-1)?.position;
      }
      const backwards: AuditEvent[] = [];
      let before = Number.MAX_SAFE_INTEGER;
      for (;;) {
        const page = await sameEvents({ ...filter, before, limit: 997 });
        backwards.unshift(...page);
        const first = page[0];
        if (page.length < 997 || first === undefined) break;
        before = first.position;
      }
      expect(plain(backwards)).to.deep.equal(plain(forwards));
      expect(forwards.length).to.be.greaterThan(0);
    }
    await sameEvents({ after: 10, before: 40, limit: 100 });
    await sameEvents({ after: 10, before: 40, limit: 5 });
    await sameEvents({ before: 3, limit: 100 });
  });

  it('scans past a page the same, and a filtered scan from a position', async () => {
    const fromSqlite = await collect(sqlite.scan({}));
    const fromPostgres = await collect(postgres.scan({}));
    expect(fromPostgres).to.have.length(total);
    expect(plain(fromPostgres)).to.deep.equal(plain(fromSqlite));
    expect(plain(await collect(postgres.scan({ types: ['Bulk'], after: 4_000 })))).to.deep.equal(
      plain(await collect(sqlite.scan({ types: ['Bulk'], after: 4_000 }))),
    );
  });

  it('positionRange, head and hashAt', async () => {
    await both((log) => log.positionRange({}));
    await both((log) => log.positionRange({ since: timeOf(10) }));
    await both((log) => log.positionRange({ until: timeOf(10) }));
    await both((log) => log.positionRange({ since: timeOf(10), until: timeOf(500) }));
    expect(await both((log) => log.positionRange({ since: '2030-01-01T00:00:00.000Z' }))).to.equal(
      undefined,
    );
    expect(await both((log) => log.positionRange({ until: '2020-01-01T00:00:00.000Z' }))).to.equal(
      undefined,
    );
    const head = await both((log) => log.head());
    expect(head?.position).to.equal(total);
    for (const position of [1, 2, 77, total]) await both((log) => log.hashAt(position));
    expect(await both((log) => log.hashAt(total + 1))).to.equal(undefined);
    expect(head?.hash).to.deep.equal(sqlite.hashAt(total));
  });

  it('verifies, telling its progress, and names an edited row', async () => {
    const progress: number[] = [];
    const report = await postgres.verify({}, (checked) => progress.push(checked));
    expect(report.ok, report.reason).to.equal(true);
    expect(report.checked).to.equal(total);
    expect(progress.length).to.be.greaterThan(0);
    const ranged = await postgres.verify({ from: 100, to: 200 });
    expect(ranged.ok).to.equal(true);
    expect(ranged.checked).to.equal(101);

    await pool.query(`UPDATE tidings_events SET data = '{"n":-1}' WHERE position = 321`);
    const edited = await postgres.verify({});
    expect(edited.ok).to.equal(false);
    expect(edited.firstBadPosition).to.equal(321);
    expect(edited.fault).to.equal('data_changed');
  });
});
