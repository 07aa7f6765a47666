import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Reading the project's own documents (`docs/*.md`, `README.md`) in tests, so that what they
 * promise is checked against what the code does. The forms parsed here are the ones the documents
 * describe for themselves (docs/api.md explains its route tables).
 */

/** The repository's root folder. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The text of a file of the repository, by its path from the root (`docs/api.md`). */
export const repoText = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

/** Who may call a route, in docs/api.md's words. */
export type Caller = 'none' | 'operator' | 'app' | 'recipient' | 'auditor' | 'key';

const callers: ReadonlySet<string> = new Set<Caller>([
  'none',
  'operator',
  'app',
  'recipient',
  'auditor',
  'key',
]);

/** Whether the server answers a route, and where it is described. */
export type RouteState =
  /** Served and in `/openapi.json`. */
  | { readonly kind: 'served' }
  /** Served as an HTML page of the web app, outside `/openapi.json`. */
  | { readonly kind: 'page' }
  /** In the contract, not served yet; the issue that brings it. */
  | { readonly kind: 'planned'; readonly issue: number };

/** One row of a route table in docs/api.md. */
export interface DocumentedRoute {
  /** Lowercase, as OpenAPI spells methods (`get`). */
  readonly method: string;
  /** In OpenAPI's form: `/v1/messages/{messageId}` for docs/api.md's `/v1/messages/:messageId`. */
  readonly path: string;
  readonly caller: Caller;
  readonly state: RouteState;
  /** The `##` section the row is under. */
  readonly section: string;
}

const METHODS = 'GET|POST|PUT|PATCH|DELETE';
/** The first cell of a route row: a method and a path in one code span. */
const routeCell = new RegExp(`^\`(${METHODS}) (/[^\`\\s]*)\`$`);
/** A row whose first cell looks like a route; it must then parse, or the test says which. */
const looksLikeRoute = new RegExp(`^\\|\\s*\`(${METHODS})\\b`);

/** The cells of one table row, trimmed (`| a | b |` → `['a', 'b']`). */
const cellsOf = (row: string): string[] =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());

const stateOf = (cell: string): RouteState | undefined => {
  if (cell === 'served') return { kind: 'served' };
  if (cell === 'page') return { kind: 'page' };
  const planned = /^planned \(issue (\d+)\)$/.exec(cell);
  return planned?.[1] === undefined ? undefined : { kind: 'planned', issue: Number(planned[1]) };
};

/** `:name` path parameters in OpenAPI's `{name}` form. */
export const openApiPathOf = (path: string): string =>
  path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

/**
 * Every route row of docs/api.md's tables (`| \`GET /v1/me\` | recipient | served |`), in
 * document order. A row that starts like a route but does not parse (an unknown caller or state, a
 * missing cell) throws, naming its line: a typo must not drop a route from the checks.
 */
export const documentedRoutes = (text: string = repoText('docs/api.md')): DocumentedRoute[] => {
  const routes: DocumentedRoute[] = [];
  let section = '';
  text.split('\n').forEach((line, index) => {
    const heading = /^## (.+)$/.exec(line);
    if (heading?.[1] !== undefined) section = heading[1].trim();
    if (!looksLikeRoute.test(line)) return;
    const [route = '', caller = '', state = '', ...rest] = cellsOf(line);
    const parsed = routeCell.exec(route);
    const parsedState = stateOf(state);
    if (
      parsed?.[1] === undefined ||
      parsed[2] === undefined ||
      !callers.has(caller) ||
      parsedState === undefined ||
      rest.length > 0
    ) {
      throw new Error(`docs/api.md line ${index + 1} is not a route row: ${line}`);
    }
    routes.push({
      method: parsed[1].toLowerCase(),
      path: openApiPathOf(parsed[2]),
      caller: caller as Caller,
      state: parsedState,
      section,
    });
  });
  return routes;
};

/** The rows of the first table under the `##` heading `title` of a Markdown text, header excluded. */
export const tableUnder = (text: string, title: string): string[][] => {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  if (start < 0) throw new Error(`no section "## ${title}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (line.trimStart().startsWith('|')) rows.push(cellsOf(line));
    else if (rows.length > 0) break;
  }
  // The header row and the `| --- |` row under it.
  return rows.slice(2);
};

/** docs/api.md's error code table: each code with its status. */
export const documentedErrorCodes = (text: string = repoText('docs/api.md')): Map<string, number> =>
  new Map(
    tableUnder(text, 'Error codes').flatMap(([status = '', codes = '']) =>
      [...codes.matchAll(/`([a-z_]+)`/g)].map(([, code]) => [code ?? '', Number(status)] as const),
    ),
  );

/** The headings (any level) of a Markdown text, without their `#` marks. */
export const headingsOf = (text: string): string[] =>
  text
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim());

/** Folders never read for references: installed packages, build output, data, version control. */
const skippedFolders: ReadonlySet<string> = new Set([
  'node_modules',
  'dist',
  'data',
  'coverage',
  '.git',
  '.bench',
]);

/** Every file of the repository ending in one of `extensions`, by its path from the root. */
export const repoFiles = (extensions: readonly string[], folder = ''): string[] =>
  readdirSync(join(repoRoot, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
    if (entry.isDirectory())
      return skippedFolders.has(entry.name) ? [] : repoFiles(extensions, path);
    return extensions.some((extension) => entry.name.endsWith(extension)) ? [path] : [];
  });

/**
 * The top-level folders of the repository as Git sees them: hidden folders and the ones
 * `.gitignore` names (installed packages, build output, data) left out.
 */
export const topLevelFolders = (): string[] => {
  const ignored = new Set(
    repoText('.gitignore')
      .split('\n')
      .map((line) => line.trim().replace(/\/$/, ''))
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  return readdirSync(repoRoot, { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && !entry.name.startsWith('.') && !ignored.has(entry.name),
    )
    .map((entry) => entry.name)
    .sort();
};

/** A Markdown text without its fenced code blocks (examples there are not claims about the tree). */
const withoutFences = (text: string): string => text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/** `application/json`, `application/problem+json`: a media type, though it starts like a folder. */
const isMediaType = (span: string): boolean =>
  /^(application|text)\/[a-z0-9+.-]+$/.test(span) && !/\.(ts|js|md)$/.test(span);

/**
 * The repository paths a Markdown text names in code spans (`adapters/web/static/`,
 * `channels/bark/barkChannel.ts`): spans with a `/` whose first segment is a top-level folder of
 * the repository. Placeholders (`channels/<kind>/`, `domain/…`), globs and media types are not paths.
 */
export const pathsNamedIn = (text: string): string[] => {
  const folders = new Set(topLevelFolders());
  return [...withoutFences(text).matchAll(/`([^`\s]+)`/g)]
    .map(([, span]) => span ?? '')
    .filter(
      (span) =>
        span.includes('/') &&
        !/[<>…*{}$]/.test(span) &&
        !isMediaType(span) &&
        folders.has(span.split('/')[0] ?? ''),
    );
};

/** Whether a path of the repository exists (a folder may be written with a trailing `/`). */
export const repoPathExists = (path: string): boolean => existsSync(join(repoRoot, path));
