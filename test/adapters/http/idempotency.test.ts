import { expect } from 'chai';
import { bodyHash, sqliteIdempotencyStore } from '../../../adapters/http/idempotency.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

describe('idempotency store', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  const now = new Date('2026-11-24T10:00:00.000Z');
  const later = (ms: number): Date => new Date(now.getTime() + ms);

  it('claims a new key, replays the stored answer for the same body, refuses another body', () => {
    const store = sqliteIdempotencyStore(temp.db, 'process-1');
    expect(store.begin('app', 'k1', { a: 1, b: 2 }, now)).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    store.complete('app', 'k1', 202, { messageId: 'm1' });
    // Key order does not make another body.
    expect(store.begin('app', 'k1', { b: 2, a: 1 }, later(1_000))).to.deep.equal({
      kind: 'replay',
      status: 202,
      body: { messageId: 'm1' },
    });
    expect(store.begin('app', 'k1', { a: 2 }, later(1_000))).to.deep.equal({ kind: 'reused' });
    expect(store.begin('other-app', 'k1', { a: 2 }, later(1_000))).to.deep.equal({
      kind: 'new',
      since: later(1_000).toISOString(),
    });
  });

  it('a shorter window (the compatible ingress): the same key after it is a new request', () => {
    const store = sqliteIdempotencyStore(temp.db, 'process-1');
    const window = 10_000;
    expect(store.begin('app', 'c1', { m: 'x' }, now, window)).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    store.complete('app', 'c1', 200, { id: 'm1' });
    expect(store.begin('app', 'c1', { m: 'x' }, later(9_999), window)).to.deep.equal({
      kind: 'replay',
      status: 200,
      body: { id: 'm1' },
    });
    // Past the window: a fresh claim with a fresh time, so the message it names is a new one.
    expect(store.begin('app', 'c1', { m: 'x' }, later(10_000), window)).to.deep.equal({
      kind: 'new',
      since: later(10_000).toISOString(),
    });
    // A window is never longer than the 24 h answers are kept.
    store.complete('app', 'c1', 200, { id: 'm2' });
    expect(
      store.begin('app', 'c1', { m: 'x' }, later(10_000 + 25 * 3_600_000), 48 * 3_600_000),
    ).to.deep.include({ kind: 'new' });
  });

  it('answers in_flight while this process is still working on the key', () => {
    const store = sqliteIdempotencyStore(temp.db, 'process-1');
    store.begin('app', 'k2', { a: 1 }, now);
    expect(store.begin('app', 'k2', { a: 1 }, later(5_000))).to.deep.equal({ kind: 'in_flight' });
    // A claim of this process older than a minute is taken to have failed without cleaning up;
    // the retry keeps the first claim's time, from which the request derives its ids.
    expect(store.begin('app', 'k2', { a: 1 }, later(61_000))).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    // The takeover is itself in flight now.
    expect(store.begin('app', 'k2', { a: 1 }, later(62_000))).to.deep.equal({ kind: 'in_flight' });
  });

  it('takes over at once a claim left by a process that died (another server start)', () => {
    sqliteIdempotencyStore(temp.db, 'killed-process').begin('app', 'k3', { a: 1 }, now);
    const restarted = sqliteIdempotencyStore(temp.db, 'process-2');
    expect(restarted.begin('app', 'k3', { a: 1 }, later(1_000))).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
  });

  it('lets a retry take over a released claim at once, with its first time, and replays nothing', () => {
    const store = sqliteIdempotencyStore(temp.db, 'process-1');
    store.begin('app', 'k5', { a: 1 }, now);
    store.abandon('app', 'k5');
    expect(store.begin('app', 'k5', { a: 1 }, later(2_000))).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    expect(store.begin('app', 'k5', { a: 2 }, later(3_000))).to.deep.equal({ kind: 'reused' });
    store.complete('app', 'k5', 202, { messageId: 'm5' });
    expect(store.begin('app', 'k5', { a: 1 }, later(4_000))).to.deep.include({ kind: 'replay' });
  });

  it('counts the 24 hours from the first claim, not from a takeover', () => {
    const store = sqliteIdempotencyStore(temp.db, 'process-1');
    store.begin('app', 'k6', { a: 1 }, now);
    store.abandon('app', 'k6');
    const dayLater = later(24 * 3_600_000 + 1);
    store.begin('app', 'k6', { a: 1 }, later(23 * 3_600_000));
    store.abandon('app', 'k6');
    // Past the first claim's 24 h: a fresh start, even with another body.
    expect(store.begin('app', 'k6', { a: 9 }, dayLater)).to.deep.equal({
      kind: 'new',
      since: dayLater.toISOString(),
    });
  });

  it('forgets answers after 24 hours', () => {
    const store = sqliteIdempotencyStore(temp.db, 'process-1');
    store.begin('app', 'k4', { a: 1 }, now);
    store.complete('app', 'k4', 202, { messageId: 'm4' });
    store.prune(later(24 * 3_600_000 + 1));
    expect(store.begin('app', 'k4', { a: 9 }, later(24 * 3_600_000 + 2))).to.deep.equal({
      kind: 'new',
      since: later(24 * 3_600_000 + 2).toISOString(),
    });
  });
});

describe('bodyHash', () => {
  /** `depth` arrays inside each other, around `inner`, built without recursion. */
  const nested = (depth: number, inner: unknown): unknown => {
    let value = inner;
    for (let level = 0; level < depth; level += 1) value = [value];
    return value;
  };

  it('ignores the order of members, at any depth', () => {
    expect(bodyHash({ a: 1, b: [{ c: 2, d: 3 }] })).to.equal(
      bodyHash({ b: [{ d: 3, c: 2 }], a: 1 }),
    );
    expect(bodyHash({ a: 1 })).to.not.equal(bodyHash({ a: 2 }));
    expect(bodyHash([1, 2])).to.not.equal(bodyHash([2, 1]));
  });

  it('hashes a body nested deeper than the call stack goes (the batch route takes any JSON items)', () => {
    // 200,000 levels fit in the 1 MiB the batch route accepts; a recursive walk overflows.
    const deep = { messages: [nested(200_000, { b: 1, a: 2 })] };
    const hash = bodyHash(deep);
    expect(hash).to.match(/^[0-9a-f]{64}$/);
    expect(bodyHash({ messages: [nested(200_000, { a: 2, b: 1 })] })).to.equal(hash);
    expect(bodyHash({ messages: [nested(199_999, { a: 2, b: 1 })] })).to.not.equal(hash);
  });
});
