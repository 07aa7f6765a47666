import { subscribe, unsubscribe } from 'node:diagnostics_channel';

/** The part of Web Crypto a render could draw randomness from. */
interface RandomSource {
  randomUUID: () => string;
  getRandomValues: <T>(array: T) => T;
}

/**
 * Runs `render` with the ways a render could reach the outside or read the clock trapped, and
 * answers what it touched. What can be seen from here, honestly:
 *
 * - network: `fetch` is replaced, and a socket opened (Node's `net.client.socket` diagnostics
 *   channel, which `http`, `https` and `net` all go through) is noticed. Only what starts while
 *   `render` runs counts: it is synchronous, so that is everything it starts itself.
 * - clock and randomness: `Date.now`, `new Date()`, `performance.now`, `Math.random`,
 *   `crypto.randomUUID` and `crypto.getRandomValues` answer other values than usual, so a render
 *   that reads them gives a different result than it did untrapped (the caller compares).
 *
 * Not seen: file reads (`fs` cannot be trapped without a loader), and a `randomUUID` or
 * `randomBytes` imported from `node:crypto` itself.
 */
export const renderTrapped = <A>(
  render: () => A,
): { readonly value: A; readonly touched: string[] } => {
  const touched: string[] = [];
  const onSocket = (): void => {
    touched.push('opened a socket');
  };
  const RealDate = globalThis.Date;
  const realFetch = globalThis.fetch;
  const realRandom = Math.random;
  const realPerformanceNow = performance.now.bind(performance);
  const cryptoObject = (globalThis as { crypto?: RandomSource }).crypto;
  const realUuid = cryptoObject?.randomUUID.bind(cryptoObject);
  const realValues = cryptoObject?.getRandomValues.bind(cryptoObject);
  // A moment far from now: a render that reads the clock renders something else.
  const shifted = RealDate.UTC(2001, 8, 9, 1, 46, 40);
  class TrappedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(shifted);
      else super(...(args as [string]));
    }
    static override now(): number {
      return shifted;
    }
  }
  subscribe('net.client.socket', onSocket);
  globalThis.Date = TrappedDate as DateConstructor;
  globalThis.fetch = () => {
    touched.push('called fetch');
    return Promise.reject(new Error('render must not fetch'));
  };
  Math.random = () => 0.123456789;
  performance.now = () => 1;
  if (cryptoObject !== undefined) {
    cryptoObject.randomUUID = () => '00000000-0000-4000-8000-000000000000';
    cryptoObject.getRandomValues = <T>(array: T): T => array;
  }
  try {
    return { value: render(), touched };
  } finally {
    globalThis.Date = RealDate;
    globalThis.fetch = realFetch;
    Math.random = realRandom;
    performance.now = realPerformanceNow;
    if (cryptoObject !== undefined && realUuid !== undefined && realValues !== undefined) {
      cryptoObject.randomUUID = realUuid;
      cryptoObject.getRandomValues = realValues;
    }
    unsubscribe('net.client.socket', onSocket);
  }
};
