/**
 * A multi-pattern matcher (Aho–Corasick) over Unicode code points: built once from thousands of
 * terms, it finds every occurrence of any of them in one pass over the text, whatever the number
 * of terms. There are no word boundaries, so Chinese (written without spaces) works like English.
 *
 * Matching is case-insensitive and ignores width and compatibility variants: terms and text both
 * go through {@link normalizeText} (NFKC, lower case), so `ＦＲＥＥ` matches `free`. The same
 * normalization also collapses every run of white space to one space and drops invisible format
 * characters (zero-width space, soft hyphen…), so `free\n  bitcoin` and `刷\u200B单` still match
 * `free bitcoin` and `刷单`. Pure: no I/O.
 */

/** One occurrence of a term. `index`/`end` are UTF-16 offsets into the original text. */
export interface TermMatch {
  /** The term as it was given to {@link buildMatcher} (not normalized). */
  readonly term: string;
  /** Where the occurrence starts: `text.slice(index, end)` is the matched original text. */
  readonly index: number;
  /** Where the occurrence ends (exclusive). */
  readonly end: number;
}

export interface MultiPatternMatcher {
  /** How many distinct terms (after normalization) the matcher knows. */
  readonly size: number;
  /**
   * The occurrence that ends first in the text; of those ending at the same place, the longest.
   * `undefined` when no term occurs.
   */
  findFirst(text: string): TermMatch | undefined;
  /**
   * Every occurrence, overlapping ones included, ordered by where they end, then by where they
   * start (so the longer of two occurrences ending at the same place comes first).
   */
  findAll(text: string): TermMatch[];
}

/** A normalized text: its code points, and for each the original UTF-16 span it came from. */
interface Normalized {
  readonly codePoints: number[];
  readonly starts: number[];
  readonly ends: number[];
}

/**
 * A base character with the marks that combine with it (combining marks, Hangul medial and final
 * jamo), or a run of white space. Normalizing cluster by cluster gives the same result as
 * normalizing the whole text, and lets each normalized code point point back into the original.
 */
const CLUSTER = /\s+|[^][\p{M}\u1160-\u11FF\uD7B0-\uD7FF]*/gu;
const FORMAT_CHARACTERS = /\p{Cf}/gu;

const normalizeCluster = (cluster: string): string => {
  if (/^\s/u.test(cluster)) return ' ';
  return (
    cluster
      .normalize('NFKC')
      .toLowerCase()
      // Lower-casing can leave a sequence NFKC would compose (e.g. `İ` → `i̇`): normalize again.
      .normalize('NFKC')
      .replace(FORMAT_CHARACTERS, '')
      // A lone `Σ` lower-cases to `σ`; the word-final form `ς` is the same letter.
      .replace(/ς/g, 'σ')
  );
};

const normalizeWithOffsets = (text: string): Normalized => {
  const codePoints: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const match of text.matchAll(CLUSTER)) {
    const cluster = match[0];
    const start = match.index;
    const end = start + cluster.length;
    const code = cluster.charCodeAt(0);
    if (cluster.length === 1 && code < 0x80) {
      // Fast path for a lone ASCII character: white space becomes a space, A–Z lower case.
      const isSpace = code === 0x20 || (code >= 0x09 && code <= 0x0d);
      codePoints.push(isSpace ? 0x20 : code >= 0x41 && code <= 0x5a ? code + 0x20 : code);
      starts.push(start);
      ends.push(end);
      continue;
    }
    if (cluster.length === 1 && code >= 0x4e00 && code <= 0x9fff) {
      // Fast path for a lone CJK unified ideograph: NFKC and lower-casing leave it as it is.
      codePoints.push(code);
      starts.push(start);
      ends.push(end);
      continue;
    }
    for (const char of normalizeCluster(cluster)) {
      codePoints.push(char.codePointAt(0) ?? 0);
      starts.push(start);
      ends.push(end);
    }
  }
  return { codePoints, starts, ends };
};

/**
 * The matcher's normal form: NFKC, lower case, white-space runs as one space, no format
 * characters. Two strings match each other exactly when their normal forms are equal.
 */
export const normalizeText = (text: string): string =>
  normalizeWithOffsets(text)
    .codePoints.map((code) => String.fromCodePoint(code))
    .join('');

/**
 * Builds the automaton. Terms that are empty or only white space (after normalization) are
 * ignored; terms with the same normal form count once, and the first spelling is reported.
 */
export const buildMatcher = (terms: Iterable<string>): MultiPatternMatcher => {
  // The trie: node 0 is the root; `next[n]` maps a code point to a child.
  const next: Map<number, number>[] = [new Map<number, number>()];
  const depth: number[] = [0];
  /** Index into `spellings` of the term that ends exactly at a node, or -1. */
  const termAt: number[] = [-1];
  const spellings: string[] = [];

  for (const term of terms) {
    const { codePoints } = normalizeWithOffsets(term);
    if (codePoints.every((code) => code === 0x20)) continue;
    let node = 0;
    for (const code of codePoints) {
      const children = next[node] ?? new Map<number, number>();
      let child = children.get(code);
      if (child === undefined) {
        child = next.length;
        children.set(code, child);
        next.push(new Map<number, number>());
        depth.push((depth[node] ?? 0) + 1);
        termAt.push(-1);
      }
      node = child;
    }
    if (termAt[node] === -1) {
      termAt[node] = spellings.length;
      spellings.push(term);
    }
  }

  // Failure links (longest proper suffix that is also in the trie) and output links (nearest
  // node along the failure chain where a term ends), breadth first.
  const fail: number[] = new Array<number>(next.length).fill(0);
  const output: number[] = new Array<number>(next.length).fill(-1);
  const queue: number[] = [];
  for (const child of (next[0] ?? new Map<number, number>()).values()) queue.push(child);
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? 0;
    for (const [code, child] of next[node] ?? new Map<number, number>()) {
      let candidate = fail[node] ?? 0;
      while (candidate !== 0 && !(next[candidate]?.has(code) ?? false)) {
        candidate = fail[candidate] ?? 0;
      }
      const target = next[candidate]?.get(code);
      const suffix = target === undefined || target === child ? 0 : target;
      fail[child] = suffix;
      output[child] = (termAt[suffix] ?? -1) >= 0 ? suffix : (output[suffix] ?? -1);
      queue.push(child);
    }
  }

  /** Walks the text and calls `emit` for each occurrence until it returns `true` (stop). */
  const scan = (text: string, emit: (match: TermMatch) => boolean): void => {
    if (spellings.length === 0) return;
    const { codePoints, starts, ends } = normalizeWithOffsets(text);
    let state = 0;
    for (let position = 0; position < codePoints.length; position++) {
      const code = codePoints[position] ?? 0;
      while (state !== 0 && !(next[state]?.has(code) ?? false)) state = fail[state] ?? 0;
      state = next[state]?.get(code) ?? 0;
      let node = (termAt[state] ?? -1) >= 0 ? state : (output[state] ?? -1);
      while (node !== -1) {
        const first = position + 1 - (depth[node] ?? 0);
        const match: TermMatch = {
          term: spellings[termAt[node] ?? 0] ?? '',
          index: starts[first] ?? 0,
          end: ends[position] ?? 0,
        };
        if (emit(match)) return;
        node = output[node] ?? -1;
      }
    }
  };

  return {
    size: spellings.length,
    findFirst: (text) => {
      let found: TermMatch | undefined;
      scan(text, (match) => {
        found = match;
        return true;
      });
      return found;
    },
    findAll: (text) => {
      const found: TermMatch[] = [];
      scan(text, (match) => {
        found.push(match);
        return false;
      });
      return found;
    },
  };
};

/**
 * Parses a term list file: one term a line; surrounding white space is trimmed; empty lines and
 * lines starting with `#` (comments) are skipped; a byte-order mark is ignored; repeated terms
 * count once.
 */
export const parseTermList = (text: string): string[] => {
  const terms = new Set<string>();
  for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const term = line.trim();
    if (term === '' || term.startsWith('#')) continue;
    terms.add(term);
  }
  return [...terms];
};
