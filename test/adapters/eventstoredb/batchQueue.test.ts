import { expect } from 'chai';
import { BatchQueue } from '../../../adapters/eventstoredb/batchQueue.js';

/** Resolves after pending microtasks and one macrotask, so queued deliveries have happened. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether `promise` has settled by now (without waiting for it). */
const isSettled = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
};

describe('BatchQueue', () => {
  it('hands over everything buffered as one batch, in push order', async () => {
    const queue = new BatchQueue<number>();
    const it = queue[Symbol.asyncIterator]();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await it.next()).to.deep.equal({ done: false, value: [1, 2, 3] });
    expect(queue.size).to.equal(0);
  });

  it('splits the buffer into batches of at most maxBatchSize', async () => {
    const queue = new BatchQueue<number>({ maxBatchSize: 2 });
    const it = queue[Symbol.asyncIterator]();
    for (const n of [1, 2, 3, 4, 5]) queue.push(n);
    expect((await it.next()).value).to.deep.equal([1, 2]);
    expect((await it.next()).value).to.deep.equal([3, 4]);
    expect((await it.next()).value).to.deep.equal([5]);
  });

  it('makes a waiting consumer wait, then delivers a burst pushed in one go together', async () => {
    const queue = new BatchQueue<string>();
    const it = queue[Symbol.asyncIterator]();
    const pending = it.next();
    expect(await isSettled(pending)).to.equal(false);
    queue.push('a');
    queue.push('b');
    expect(await pending).to.deep.equal({ done: false, value: ['a', 'b'] });
  });

  it('answers overlapping next() calls in order, one batch each', async () => {
    const queue = new BatchQueue<number>({ maxBatchSize: 1 });
    const it = queue[Symbol.asyncIterator]();
    const first = it.next();
    const second = it.next();
    queue.push(1);
    queue.push(2);
    expect((await first).value).to.deep.equal([1]);
    expect((await second).value).to.deep.equal([2]);
  });

  it('asks the producer to pause at the high-water mark and to resume at the low one', async () => {
    const calls: string[] = [];
    const queue = new BatchQueue<number>({
      maxBatchSize: 2,
      highWaterMark: 5,
      lowWaterMark: 2,
      onPause: () => calls.push('pause'),
      onResume: () => calls.push('resume'),
    });
    const it = queue[Symbol.asyncIterator]();
    for (const n of [1, 2, 3, 4]) queue.push(n);
    expect(queue.isPaused).to.equal(false);
    queue.push(5);
    expect(calls).to.deep.equal(['pause']);
    expect(queue.isPaused).to.equal(true);
    // Items that arrive while paused are kept, and do not ask again.
    queue.push(6);
    expect(calls).to.deep.equal(['pause']);
    await it.next(); // 4 left: above the low-water mark
    expect(calls).to.deep.equal(['pause']);
    await it.next(); // 2 left: resume
    expect(calls).to.deep.equal(['pause', 'resume']);
    expect(queue.isPaused).to.equal(false);
    expect((await it.next()).value).to.deep.equal([5, 6]);
  });

  it('defaults to batches of 1,000 and pausing at 4,096 buffered items', async () => {
    let paused = 0;
    const queue = new BatchQueue<number>({ onPause: () => (paused += 1) });
    const it = queue[Symbol.asyncIterator]();
    for (let n = 0; n < 4_095; n += 1) queue.push(n);
    expect(paused).to.equal(0);
    queue.push(4_095);
    expect(paused).to.equal(1);
    expect((await it.next()).value).to.have.length(1_000);
  });

  it('end(): the consumer drains the buffer, then the iteration is done', async () => {
    const queue = new BatchQueue<number>();
    const batches: number[][] = [];
    queue.push(1);
    queue.end();
    queue.push(2); // ignored: the producer said it was done
    for await (const batch of queue) batches.push([...batch]);
    expect(batches).to.deep.equal([[1]]);
  });

  it('end() wakes a waiting consumer', async () => {
    const queue = new BatchQueue<number>();
    const it = queue[Symbol.asyncIterator]();
    const pending = it.next();
    queue.end();
    expect(await pending).to.deep.equal({ done: true, value: undefined });
  });

  it('fail(): the consumer gets what was buffered, then the error once, then done', async () => {
    const queue = new BatchQueue<number>();
    const it = queue[Symbol.asyncIterator]();
    const boom = new Error('connection lost');
    queue.push(1);
    queue.fail(boom);
    expect((await it.next()).value).to.deep.equal([1]);
    let caught: unknown;
    try {
      await it.next();
    } catch (error) {
      caught = error;
    }
    expect(caught).to.equal(boom);
    expect(await it.next()).to.deep.equal({ done: true, value: undefined });
  });

  it('fail() rejects a waiting consumer, and a for-await loop throws it', async () => {
    const queue = new BatchQueue<number>();
    const boom = new Error('server went away');
    const loop = (async () => {
      for await (const _ of queue) {
        // nothing arrives
      }
    })();
    await settle();
    queue.fail(boom);
    let caught: unknown;
    try {
      await loop;
    } catch (error) {
      caught = error;
    }
    expect(caught).to.equal(boom);
  });

  it('close() ends a waiting iteration at once, drops the buffer and calls onClose once', async () => {
    let closed = 0;
    const queue = new BatchQueue<number>({ onClose: () => (closed += 1) });
    const it = queue[Symbol.asyncIterator]();
    const pending = it.next();
    queue.close();
    expect(await pending).to.deep.equal({ done: true, value: undefined });
    queue.push(1);
    expect(queue.size).to.equal(0);
    queue.close();
    expect(closed).to.equal(1);
  });

  it('close() discards items not yet taken', async () => {
    const queue = new BatchQueue<number>();
    const it = queue[Symbol.asyncIterator]();
    queue.push(1);
    queue.close();
    expect(await it.next()).to.deep.equal({ done: true, value: undefined });
  });

  it('leaving a for-await loop early closes the queue', async () => {
    let closed = 0;
    const queue = new BatchQueue<number>({ onClose: () => (closed += 1) });
    queue.push(1);
    for await (const _ of queue) break;
    expect(closed).to.equal(1);
    expect(queue.isOpen).to.equal(false);
  });

  it('has a single consumer', () => {
    const queue = new BatchQueue<number>();
    queue[Symbol.asyncIterator]();
    expect(() => queue[Symbol.asyncIterator]()).to.throw(/only once/);
  });

  it('rejects settings that could never work', () => {
    expect(() => new BatchQueue({ maxBatchSize: 0 })).to.throw(RangeError);
    expect(() => new BatchQueue({ highWaterMark: 10, lowWaterMark: 10 })).to.throw(RangeError);
    expect(() => new BatchQueue({ highWaterMark: 0 })).to.throw(RangeError);
  });
});
