import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseTermList } from '../../domain/moderation/multiPatternMatcher.js';

/**
 * The denylist shipped with Tidings, next to this module. (A build that compiles to `dist/` has to
 * copy `default-denylist.txt` along: the TypeScript compiler copies only code.)
 */
export const BUNDLED_DENYLIST_URL = new URL('./default-denylist.txt', import.meta.url);

/** Path of {@link BUNDLED_DENYLIST_URL}, for messages and logs. */
export const bundledDenylistPath = (): string => fileURLToPath(BUNDLED_DENYLIST_URL);

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Reads the denylist terms: from `path` (the value of `TIDINGS_MODERATION_DENYLIST`, one term a
 * line, `#` comments) when given, otherwise from the bundled default list. A configured file
 * replaces the bundled list. A file that is missing or unreadable throws an Error that names the
 * path: a moderation setting that silently fell back to another list would be worse than a
 * refusal to start.
 */
export const loadDenylist = async (path: string | undefined): Promise<string[]> => {
  const source = path ?? BUNDLED_DENYLIST_URL;
  const shown = path ?? bundledDenylistPath();
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the moderation denylist ${shown}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  return parseTermList(text);
};
