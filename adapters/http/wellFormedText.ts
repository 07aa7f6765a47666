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
 * The walk uses its own stack, so a deeply nested body cannot overflow the call stack.
 */
export const illFormedText = (value: unknown, base = ''): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const pending: Pending[] = [{ kind: 'value', value, path: base }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (problems.length === MAX_PROBLEMS) break;
    if (next.kind === 'key') {
      problems.push({ path: next.path, message: `this key ${NOT_WELL_FORMED}` });
      continue;
    }
    const { value: current, path } = next;
    if (typeof current === 'string') {
      if (!current.isWellFormed()) problems.push({ path: path || '/', message: NOT_WELL_FORMED });
    } else if (typeof current === 'object' && current !== null) {
      // Pushed last to first, so the problems come out in document order.
      const entries = Array.isArray(current)
        ? current.map((member, index): [string, unknown] => [String(index), member])
        : Object.entries(current);
      for (const [key, member] of entries.reverse()) {
        const memberPath = `${path}/${pointerToken(key)}`;
        pending.push({ kind: 'value', value: member, path: memberPath });
        if (!key.isWellFormed()) pending.push({ kind: 'key', path: memberPath });
      }
    }
  }
  return problems;
};

/** What the walk has still to look at: a value, or a key already found ill formed. */
type Pending =
  | { readonly kind: 'value'; readonly value: unknown; readonly path: string }
  | { readonly kind: 'key'; readonly path: string };

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
