import { expect } from 'chai';
import { KeyedSerializer } from '../../../application/shared/keyedSerializer.js';

/** A promise and the functions that settle it, so a test decides when work finishes. */
const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
};

/** Lets every queued promise reaction run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('keyed serializer', () => {
  it('runs the work of one key one after the other, in the order asked', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const first = deferred();
    const a = serializer.run('s', async () => {
      log.push('first starts');
      await first.promise;
      log.push('first ends');
      return 1;
    });
    const b = serializer.run('s', () => {
      log.push('second starts');
      return Promise.resolve(2);
    });
    await settle();
    expect(log).to.deep.equal(['first starts']);
    first.resolve();
    expect(await a).to.equal(1);
    expect(await b).to.equal(2);
    expect(log).to.deep.equal(['first starts', 'first ends', 'second starts']);
  });

  it('runs the work of different keys at the same time', async () => {
    const serializer = new KeyedSerializer();
    const started: string[] = [];
    const hold = deferred();
    const a = serializer.run('s1', async () => {
      started.push('s1');
      await hold.promise;
    });
    const b = serializer.run('s2', async () => {
      started.push('s2');
      await hold.promise;
    });
    await settle();
    expect(started).to.deep.equal(['s1', 's2']);
    hold.resolve();
    await Promise.all([a, b]);
  });

  it('runs the next work of a key after a failure, and hands the failure to its own caller', async () => {
    const serializer = new KeyedSerializer();
    const failing = serializer.run('s', () => Promise.reject(new Error('store down')));
    const next = serializer.run('s', () => Promise.resolve('ran'));
    let caught: unknown;
    await failing.catch((error: unknown) => (caught = error));
    expect((caught as Error).message).to.equal('store down');
    expect(await next).to.equal('ran');
  });

  it('forgets a key once its work has settled', async () => {
    const serializer = new KeyedSerializer();
    const hold = deferred();
    const a = serializer.run('s1', () => hold.promise);
    const b = serializer.run('s1', () => Promise.resolve());
    const c = serializer.run('s2', () => Promise.resolve());
    expect(serializer.size).to.equal(2);
    hold.resolve();
    await Promise.all([a, b, c]);
    await settle();
    expect(serializer.size).to.equal(0);
  });
});
