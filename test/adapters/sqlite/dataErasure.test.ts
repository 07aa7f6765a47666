import { expect } from 'chai';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../../adapters/sqlite/database.js';
import * as E from 'fp-ts/lib/Either.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import { createCommandBus } from '../../../application/commandBus.js';
import type { ErasableLog } from '../../../application/erasure/erasableLog.js';
import { erasureProcessor } from '../../../application/erasure/erasureProcessor.js';
import { silentLogger } from '../../../adapters/logging/logger.js';
import type { NewEvent, RecordedEvent } from '../../../domain/shared/eventStore.js';
import { DATA_ERASED_EVENT, digestOf, type ChainReport } from '../../../domain/shared/hashChain.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const metadata = {
  occurredAt: '2026-12-06T10:00:00.000Z',
  actor: { kind: 'system' as const, id: 'test' },
  correlationId: 'c',
  causationId: 'c',
  schemaVersion: 1,
};

const event = (type: string, data: unknown): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata,
});

const append = async (temp: TempStore, stream: string, ...events: NewEvent[]) => {
  const result = await temp.store.appendToStream(stream, events, { expectedRevision: 'any' });
  if (E.isLeft(result)) throw new Error('append failed');
  return Number(result.right.position.commit);
};

const verify = (temp: TempStore): Promise<ChainReport> => new SqliteAuditLog(temp.db).verify({});

const dataAt = (temp: TempStore, position: number): Record<string, unknown> =>
  JSON.parse(
    temp.db
      .prepare<[number], { data: string }>('SELECT data FROM events WHERE position = ?')
      .get(position)?.data ?? 'null',
  ) as Record<string, unknown>;

const erasedForm = { messageId: 'm1', recipientId: 'rcp_a', body: '[erased]' };
const digestHex = (data: unknown): string => digestOf(JSON.stringify(data)).toString('hex');

/** The person's deletion, which an erasure record must follow in their stream. */
const deleteAccount = (temp: TempStore, stream = 'recipient-rcp_a') =>
  append(temp, stream, event('RecipientErased', { recipientId: 'rcp_a', by: 'self' }));

/**
 * Rewrites one event and records the erasure with the digest of what it now holds, in the
 * stream `recordIn` (a deleted person's, unless a test says otherwise).
 */
const erase = async (
  temp: TempStore,
  position: number,
  data: unknown,
  listed = data,
  recordIn = 'recipient-rcp_a',
) => {
  await append(
    temp,
    recordIn,
    event(DATA_ERASED_EVENT, {
      recipientId: 'rcp_a',
      events: [{ position, dataDigest: digestHex(listed) }],
    }),
  );
  temp.store.erasure.rewrite([{ position, data }]);
};

describe('SQLite store: erasure under the digest (docs/audit.md, "Erasure")', () => {
  let temp: TempStore;
  let submitted: number;
  beforeEach(async () => {
    temp = openTempStore();
    await append(temp, 'other-1', event('Other', { text: 'before' }));
    submitted = await append(
      temp,
      'message-m1',
      event('MessageSubmitted', { messageId: 'm1', recipientId: 'rcp_a', body: 'secret text' }),
    );
    await append(temp, 'other-2', event('Other', { text: 'after' }));
    await deleteAccount(temp);
  });
  afterEach(() => temp.dispose());

  it('an erased event listed with the digest of its new data verifies', async () => {
    await erase(temp, submitted, erasedForm);
    expect(dataAt(temp, submitted)).to.deep.equal(erasedForm);
    const report = await verify(temp);
    expect(report, JSON.stringify(report)).to.deep.include({ ok: true, checked: 5 });
  });

  it('a rewrite no erasure lists is data_changed at its position', async () => {
    temp.store.erasure.rewrite([{ position: submitted, data: erasedForm }]);
    await append(temp, 'other-3', event('Other', { text: 'later' }));
    const report = await verify(temp);
    expect(report).to.deep.include({
      ok: false,
      firstBadPosition: submitted,
      fault: 'data_changed',
      checked: 1,
    });
    expect(report.head.position).to.equal(1);
  });

  it('an erased event edited again afterwards is data_changed', async () => {
    await erase(temp, submitted, erasedForm);
    temp.db
      .prepare('UPDATE events SET data = ? WHERE position = ?')
      .run(JSON.stringify({ ...erasedForm, recipientId: 'rcp_b' }), submitted);
    const report = await verify(temp);
    expect(report).to.deep.include({
      ok: false,
      firstBadPosition: submitted,
      fault: 'data_changed',
    });
  });

  it('an erasure listing another digest than the data holds explains nothing', async () => {
    await erase(temp, submitted, erasedForm, { ...erasedForm, body: 'something else' });
    const report = await verify(temp);
    expect(report).to.deep.include({
      ok: false,
      firstBadPosition: submitted,
      fault: 'data_changed',
    });
  });

  it('an edited erasure record explains nothing: the event it listed is data_changed', async () => {
    await erase(temp, submitted, erasedForm);
    const record = temp.db
      .prepare<[string], { position: number }>('SELECT position FROM events WHERE type = ?')
      .get(DATA_ERASED_EVENT)?.position;
    temp.db
      .prepare('UPDATE events SET data = ? WHERE position = ?')
      .run(JSON.stringify({ recipientId: 'rcp_a', events: [] }), record);
    const report = await verify(temp);
    // The erased event comes first and nothing valid explains it.
    expect(report).to.deep.include({
      ok: false,
      firstBadPosition: submitted,
      fault: 'data_changed',
    });
  });

  it('an edit before an erased event is named first; one after it is named after it', async () => {
    temp.db
      .prepare('UPDATE events SET data = ? WHERE position = 1')
      .run(JSON.stringify({ text: 'forged' }));
    await erase(temp, submitted, erasedForm);
    expect(await verify(temp)).to.deep.include({ firstBadPosition: 1, fault: 'data_changed' });
    temp.db
      .prepare('UPDATE events SET data = ? WHERE position = 1')
      .run(JSON.stringify({ text: 'before' }));
    temp.db
      .prepare('UPDATE events SET data = ? WHERE position = 3')
      .run(JSON.stringify({ text: 'forged' }));
    expect(await verify(temp)).to.deep.include({ firstBadPosition: 3, fault: 'data_changed' });
  });

  it('a forged record does not explain an edit that is no erasure: data_changed at once', async () => {
    const edited = { ...erasedForm, body: 'a text the person never got' };
    await erase(temp, submitted, edited);
    expect(await verify(temp)).to.deep.include({
      ok: false,
      firstBadPosition: submitted,
      fault: 'data_changed',
      reason: 'the data does not match its digest, and is not an erased form of it',
    });
  });

  it('a record does not explain an event without personal data rewritten to anything', async () => {
    await erase(temp, 1, { text: '[erased]' });
    expect(await verify(temp)).to.deep.include({
      ok: false,
      firstBadPosition: 1,
      fault: 'data_changed',
    });
  });

  it('a record in the stream of a person never deleted explains nothing', async () => {
    await erase(temp, submitted, erasedForm, erasedForm, 'recipient-rcp_never_deleted');
    const report = await verify(temp);
    expect(report).to.deep.include({
      ok: false,
      firstBadPosition: submitted,
      fault: 'data_changed',
      reason: 'the data does not match its digest, and no recorded erasure lists it with this data',
    });
    expect(report.head.position).to.equal(submitted - 1);
  });

  it('a range from after the deletion takes the record without it', async () => {
    await erase(temp, submitted, erasedForm);
    const report = await new SqliteAuditLog(temp.db).verify({ from: submitted });
    expect(report, JSON.stringify(report)).to.deep.include({ ok: true, checked: 4 });
  });

  it('a rewrite fails, saying why, while another connection keeps the write-ahead log', () => {
    temp.db.pragma('busy_timeout = 100'); // SQLite waits this long for the reader first
    const reader = new Database(join(temp.dir, DATABASE_FILE), { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM events').get();
      expect(() => {
        temp.store.erasure.rewrite([{ position: submitted, data: erasedForm }]);
      }).to.throw(/write-ahead log could not be emptied.*another connection/);
      reader.exec('COMMIT');
    } finally {
      reader.close();
    }
    // Done again (as the erasure repeats after a failure), it goes through.
    temp.store.erasure.rewrite([{ position: submitted, data: erasedForm }]);
    const [wal] = temp.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    expect(wal?.log).to.equal(0);
  });

  it('the store serves the erased data to readers and subscribers from then on', async () => {
    await erase(temp, submitted, erasedForm);
    const [read] = await temp.store.readStream('message-m1');
    expect(read?.data).to.deep.equal(erasedForm);
    const all = await temp.store.readAll({ maxCount: 10 });
    expect(all.find((recorded) => recorded.stream === 'message-m1')?.data).to.deep.equal(
      erasedForm,
    );
  });
});

describe('erasure processor: a crash between recording and rewriting', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  it('repeats the work on the next attempt, and the log verifies at every step', async () => {
    const commands = createCommandBus({ store: temp.store });
    const context = (id: string) => ({
      commandId: id,
      actor: { kind: 'system' as const, id: 'test' },
      correlationId: 'c',
    });
    const registered = await commands.execute(
      'recipient',
      'rcp_a',
      {
        type: 'RegisterRecipient',
        data: { recipientId: 'rcp_a', username: 'alice-erased', passwordHash: 'hash-of-alice' },
        metadata: { now: '2026-12-06T10:00:00.000Z' },
      },
      context('register'),
    );
    expect(E.isRight(registered)).to.equal(true);
    await append(
      temp,
      'message-m1',
      event('MessageSubmitted', { messageId: 'm1', recipientId: 'rcp_a', body: 'secret text' }),
    );
    const erased = await commands.execute(
      'recipient',
      'rcp_a',
      {
        type: 'EraseRecipient',
        data: { recipientId: 'rcp_a', by: 'self' },
        metadata: { now: '2026-12-06T10:01:00.000Z' },
      },
      context('erase'),
    );
    expect(E.isRight(erased)).to.equal(true);
    const cause = (await temp.store.readStream('recipient-rcp_a')).find(
      (recorded) => recorded.type === 'RecipientErased',
    ) as RecordedEvent;

    let crash = true;
    const erasure = temp.store.erasure;
    const log: ErasableLog = {
      erasedRecipients: () => erasure.erasedRecipients(),
      recipientOf: (stream) => erasure.recipientOf(stream),
      streamsWith: (type, field, value) => erasure.streamsWith(type, field, value),
      eventsOf: (streams, types) => erasure.eventsOf(streams, types),
      rewrite: (changes) => {
        if (crash) throw new Error('the disk went away');
        temp.store.erasure.rewrite(changes);
      },
    };
    const processor = erasureProcessor({
      log,
      commands,
      bindings: { activeForRecipient: () => [] },
      logger: silentLogger,
    });
    let failure: unknown;
    await processor.handle(cause).catch((error: unknown) => {
      failure = error;
    });
    expect(String(failure)).to.include('the disk went away');
    // Recorded, not yet rewritten: nothing is unexplained, the data is still there.
    expect((await verify(temp)).ok).to.equal(true);
    const body = (position: number) => dataAt(temp, position)['body'];
    const message = (await temp.store.readStream('message-m1'))[0];
    expect(body(Number(message?.position.commit))).to.equal('secret text');

    crash = false;
    await processor.handle(cause);
    await processor.handle(cause); // once more, as after a crash right after: nothing new
    const report = await verify(temp);
    expect(report.ok, JSON.stringify(report)).to.equal(true);
    expect(body(Number(message?.position.commit))).to.equal('[erased]');
    const account = await temp.store.readStream('recipient-rcp_a');
    expect(account[0]?.data).to.deep.include({ username: '[erased]', passwordHash: '[erased]' });
    // The repeat recorded the same list, which is the same record: one, not two.
    expect(account.filter((recorded) => recorded.type === DATA_ERASED_EVENT)).to.have.length(1);
  });

  it('erases personal data written about a deleted person after the deletion, even after a restart', async () => {
    const commands = createCommandBus({ store: temp.store });
    const run = (type: string, data: Record<string, unknown>, id: string) =>
      commands.execute(
        'recipient',
        'rcp_a',
        { type, data, metadata: { now: '2026-12-06T10:00:00.000Z' } } as never,
        { commandId: id, actor: { kind: 'system' as const, id: 'test' }, correlationId: 'c' },
      );
    await run(
      'RegisterRecipient',
      { recipientId: 'rcp_a', username: 'alice-late', passwordHash: 'h' },
      'r',
    );
    await append(
      temp,
      'message-m1',
      event('MessageSubmitted', { messageId: 'm1', recipientId: 'rcp_a', body: 'in flight' }),
    );
    await append(
      temp,
      'message-m2',
      event('MessageSubmitted', { messageId: 'm2', recipientId: 'rcp_b', body: 'someone else' }),
    );
    await run('EraseRecipient', { recipientId: 'rcp_a', by: 'self' }, 'e');
    const processorOf = () =>
      erasureProcessor({
        log: temp.store.erasure,
        commands,
        bindings: { activeForRecipient: () => [] },
        logger: silentLogger,
      });
    const processor = processorOf();
    const deletion = (await temp.store.readStream('recipient-rcp_a')).find(
      (recorded) => recorded.type === 'RecipientErased',
    ) as RecordedEvent;
    await processor.handle(deletion);

    // The delivery of the message in flight fails after the sweep, quoting the text.
    const failure = event('MessageDeliveryFailed', { messageId: 'm1', error: 'bark: in flight' });
    const failed = await append(temp, 'message-m1', failure);
    const other = event('MessageDeliveryFailed', { messageId: 'm2', error: 'bark: someone else' });
    const otherFailed = await append(temp, 'message-m2', other);
    const recordedAt = async (stream: string, position: number) =>
      (await temp.store.readStream(stream)).find(
        (recorded) => Number(recorded.position.commit) === position,
      ) as RecordedEvent;
    // A restarted processor: it learns who was deleted from the log.
    const restarted = processorOf();
    await restarted.handle(await recordedAt('message-m1', failed));
    await restarted.handle(await recordedAt('message-m2', otherFailed));
    expect(dataAt(temp, failed)['error']).to.equal('[erased]');
    expect(dataAt(temp, otherFailed)['error']).to.equal('bark: someone else');
    const report = await verify(temp);
    expect(report.ok, JSON.stringify(report)).to.equal(true);
    const records = (await temp.store.readStream('recipient-rcp_a')).filter(
      (recorded) => recorded.type === DATA_ERASED_EVENT,
    );
    expect(records.at(-1)?.data).to.deep.include({
      events: [{ position: failed, dataDigest: digestHex(dataAt(temp, failed)) }],
    });
  });
});
