/**
 * How many times the methods `names` of `owner` (e.g. `String.prototype`) were called while `run`
 * ran. For checks of how much work code does without timing it: the methods are wrapped for the
 * duration of `run` only, and put back whatever happens.
 */
export const countCalls = (owner: object, names: readonly string[], run: () => void): number => {
  let calls = 0;
  const originals = names.map((name) => {
    const descriptor = Object.getOwnPropertyDescriptor(owner, name);
    if (typeof descriptor?.value !== 'function') throw new Error(`${name} is not a method`);
    return [name, descriptor] as const;
  });
  for (const [name, descriptor] of originals) {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    Object.defineProperty(owner, name, {
      ...descriptor,
      value: function (this: unknown, ...args: unknown[]): unknown {
        calls += 1;
        return Reflect.apply(original, this, args);
      },
    });
  }
  try {
    run();
  } finally {
    for (const [name, descriptor] of originals) Object.defineProperty(owner, name, descriptor);
  }
  return calls;
};
