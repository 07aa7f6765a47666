/**
 * Polls `read` every `intervalMs` until `done` holds, for at most `timeoutMs`; returns the last
 * value. Tests wait for asynchronous outcomes this way (bounded), never with fixed sleeps.
 */
export const waitUntil = async <T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${show(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

/** JSON for an error message; bigints (event positions) as text. */
export const show = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
