import type { FieldProblem } from './problem.js';

/** More would only make the answer large; the first ones are enough to find the fault. */
const MAX_PROBLEMS = 100;

const NOT_WELL_FORMED =
  'is not well-formed Unicode (a lone surrogate, or bytes that are not UTF-8); it would be altered if stored';

/**
 * The strings and object keys inside a decoded JSON body or a parsed query that are not
 * well-formed Unicode, as field problems with paths in the style of `fieldProblems`
 * (`/messages/3/body`; a bad key is named by its object's path plus the key). Such text comes
 * from a `\udfff`-style escape of a lone surrogate, or from bytes that are not UTF-8 (see
 * `decodeUtf8KeepingFaults`); storing it would silently turn it into U+FFFD, so it is refused.
 *
 * It runs before authentication on every body, so it walks in document order with its own
 * stack of the objects it is inside (a deeply nested body cannot overflow the call stack), looks
 * at numbers, booleans and nulls without allocating anything, and spells a path only for a
 * problem it reports.
 */
export const illFormedText = (value: unknown, base = ''): FieldProblem[] => {
  if (typeof value === 'string') {
    return value.isWellFormed() ? [] : [{ path: base || '/', message: NOT_WELL_FORMED }];
  }
  if (typeof value !== 'object' || value === null) return [];
  const problems: FieldProblem[] = [];
  const inside: Container[] = [containerOf(value)];
  while (problems.length < MAX_PROBLEMS) {
    const container = inside.at(-1);
    if (container === undefined) break;
    if (container.next === container.size) {
      inside.pop();
      continue;
    }
    const at = container.next;
    container.next += 1;
    const key = container.keys?.[at];
    if (key !== undefined && !key.isWellFormed()) {
      problems.push({ path: pathOf(base, inside), message: `this key ${NOT_WELL_FORMED}` });
      if (problems.length === MAX_PROBLEMS) break;
    }
    const member: unknown = key === undefined ? container.members[at] : container.members[key];
    if (typeof member === 'string') {
      if (!member.isWellFormed())
        problems.push({ path: pathOf(base, inside), message: NOT_WELL_FORMED });
    } else if (typeof member === 'object' && member !== null) {
      inside.push(containerOf(member));
    }
  }
  return problems;
};

/** An array or object the walk is inside, and the member it looks at next. */
interface Container {
  readonly members: Readonly<Record<string, unknown>> & readonly unknown[];
  /** An object's keys; `undefined` for an array, whose members go by index. */
  readonly keys: readonly string[] | undefined;
  readonly size: number;
  next: number;
}

const containerOf = (value: object): Container => {
  const keys = Array.isArray(value) ? undefined : Object.keys(value);
  return {
    members: value as Container['members'],
    keys,
    size: keys === undefined ? (value as readonly unknown[]).length : keys.length,
    next: 0,
  };
};

/** The path of the member each container is at (the one before its `next`), below `base`. */
const pathOf = (base: string, inside: readonly Container[]): string =>
  base +
  inside
    .map(
      ({ keys, next }) =>
        `/${keys === undefined ? String(next - 1) : pointerToken(keys[next - 1] ?? '')}`,
    )
    .join('');

/**
 * A key as one JSON pointer token (RFC 6901: `~` as `~0`, `/` as `~1`), with anything ill formed
 * shown as U+FFFD (one per bad byte), so the answer itself is well-formed text.
 */
const pointerToken = (key: string): string =>
  key
    .replace(/(?<![\uD800-\uDBFF])([\uDC80-\uDCFF])\1/g, '\uFFFD')
    .toWellFormed()
    .replaceAll('~', '~0')
    .replaceAll('/', '~1');
