import { buildMatcher } from './multiPatternMatcher.js';
import type { ModerationInput, PolicyVerdict, SyncModerationPolicy } from './policy.js';
import { PASS } from './policy.js';

/** The message fields the local policies read, in the order they are checked. */
export const TEXT_FIELDS = ['title', 'subtitle', 'body', 'url'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

/**
 * Rejects a message whose title, subtitle, body or url contains a denied term, with the reason
 * `contains a denied term: <term>` (the term as spelled in the list). Matching is case- and
 * width-insensitive and needs no word boundaries (see `multiPatternMatcher.ts`); the automaton is
 * built once, here, so a check costs one pass over each field whatever the number of terms.
 * Each field is searched on its own, so a term never matches across two fields. With no terms,
 * every message passes.
 */
export const denylistPolicy = (
  terms: Iterable<string>,
  name = 'denylist',
): SyncModerationPolicy => {
  const matcher = buildMatcher(terms);
  return {
    name,
    answersAtOnce: true,
    check: (input: ModerationInput): PolicyVerdict => {
      for (const field of TEXT_FIELDS) {
        const text = input[field];
        if (text === undefined || text === '') continue;
        const found = matcher.findFirst(text);
        if (found !== undefined) {
          return { kind: 'reject', reason: `contains a denied term: ${found.term}` };
        }
      }
      return PASS;
    },
  };
};
