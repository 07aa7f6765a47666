import { expect } from 'chai';
import { posix } from 'node:path';
import {
  documentedRoutes,
  headingsOf,
  openApiPathOf,
  pathsNamedIn,
  repoFiles,
  repoPathExists,
  repoText,
} from '../support/docs.js';

/**
 * What points into docs/ resolves: every `docs/<name>.md` that code and tests cite exists, with
 * the section, quoted text or route they name; every link between the documents leads to a file
 * (and section) that exists; and every repository path the documents name exists, so a move that
 * forgets the documents fails here.
 */

/** One place that cites a document. */
interface Citation {
  readonly from: string;
  /** The document's path from the repository root, e.g. `docs/bark.md`. */
  readonly doc: string;
  /** A section title or a quoted passage, when the citation names one. */
  readonly quote?: string;
  /** A route, when the citation names one (`GET /v1/messages/:id`). */
  readonly route?: string;
}

/** Source text with comment continuations (`*`, `//` at a line's start) joined into one line. */
const joinedComments = (text: string): string =>
  text.replace(/\n[ \t]*(?:\*(?!\/)|\/\/)?[ \t]*/g, ' ');

const DOC = String.raw`docs\/([\w-]+)\.md`;
/**
 * A document, then quotes: `docs/<name>.md "Section"`, with a comma, a colon or `'s` between, and
 * `… and "Other"` after.
 */
const docThenQuotes = new RegExp(
  `${DOC}\`?(?:'s)?[,:]?\\s+"([^"]+)"(?:\\s+and\\s+"([^"]+)")?`,
  'g',
);
/** A quote, then its document: `"Section" in docs/<name>.md`. */
const quoteThenDoc = new RegExp(`"([^"]+)"\\s+in\\s+\`?${DOC}`, 'g');
/** A document, then a route: `docs/<name>.md` and `GET /v1/…` in a code span. */
const docThenRoute = new RegExp(`${DOC},?\\s+\`((?:GET|POST|PUT|PATCH|DELETE) [^\`]+)\``, 'g');
/** `docs/<name>.md` anywhere. */
const anyDoc = new RegExp(DOC, 'g');

/** Every citation of docs/ in the code, the tests and the lint configuration. */
const sourceCitations = (): Citation[] =>
  repoFiles(['.ts', '.js', '.cjs', '.mjs']).flatMap((from) => {
    const text = joinedComments(repoText(from));
    const doc = (name: string | undefined): string => `docs/${name ?? ''}.md`;
    return [
      ...[...text.matchAll(anyDoc)].map(([, name]) => ({ from, doc: doc(name) })),
      // The second quote's group takes no part in most matches: it is then undefined.
      ...[...text.matchAll(docThenQuotes)].flatMap((match) =>
        [match[2], match[3]].flatMap((quote) =>
          quote === undefined ? [] : [{ from, doc: doc(match[1]), quote }],
        ),
      ),
      ...[...text.matchAll(quoteThenDoc)].map(([, quote = '', name]) => ({
        from,
        doc: doc(name),
        quote,
      })),
      ...[...text.matchAll(docThenRoute)].map(([, name, route = '']) => ({
        from,
        doc: doc(name),
        route,
      })),
    ];
  });

/** The documents: README.md and every file of docs/. */
const documents = (): string[] => [
  'README.md',
  ...repoFiles(['.md'], 'docs').filter((path) => path.startsWith('docs/')),
];

/** Every relative Markdown link of the documents (`[api.md](api.md) "App"`), resolved from the root. */
const linkCitations = (): Citation[] =>
  documents().flatMap((from) =>
    [...repoText(from).matchAll(/\]\(([^)\s#:]+\.md)\)(?:\s+"([^"]+)")?/g)].map(
      ([, target = '', quote]) => ({
        from,
        doc: posix.normalize(posix.join(posix.dirname(from), target)),
        ...(quote === undefined ? {} : { quote }),
      }),
    ),
  );

const normalized = (text: string): string => text.replace(/\s+/g, ' ').trim().toLowerCase();

/** Whether a document has the quoted section (any heading level) or passage. */
const hasQuote = (doc: string, quote: string): boolean => {
  const text = repoText(doc);
  return (
    headingsOf(text).some((heading) => normalized(heading) === normalized(quote)) ||
    normalized(text).includes(normalized(quote))
  );
};

/** `GET /v1/messages/:id` and docs/api.md's `/v1/messages/{messageId}` name the same route. */
const routeShape = (route: string): string =>
  openApiPathOf(route.trim())
    .replace(/\{[^}]+\}/g, '{}')
    .toUpperCase();

describe('references to docs/', () => {
  const cited = sourceCitations();

  it('are found in the code and the tests (the check below is not vacuous)', () => {
    expect(cited.filter(({ quote }) => quote !== undefined).length).to.be.greaterThan(10);
    expect(cited.filter(({ route }) => route !== undefined).length).to.be.greaterThan(2);
    expect(new Set(cited.map(({ doc }) => doc))).to.include.keys(
      'docs/api.md',
      'docs/bark.md',
      'docs/architecture.md',
    );
  });

  it('name documents that exist', () => {
    const missing = cited.filter(({ doc }) => !repoPathExists(doc));
    expect(missing.map(({ from, doc }) => `${from}: ${doc}`)).to.deep.equal([]);
  });

  it('name sections and passages the documents have', () => {
    const missing = cited.filter(
      ({ doc, quote }) => quote !== undefined && repoPathExists(doc) && !hasQuote(doc, quote),
    );
    expect(missing.map(({ from, doc, quote }) => `${from}: ${doc} "${quote}"`)).to.deep.equal([]);
  });

  it('name routes docs/api.md lists', () => {
    const listed = new Set(
      documentedRoutes().map(({ method, path }) => routeShape(`${method} ${path}`)),
    );
    const missing = cited.filter(
      ({ route }) => route !== undefined && !listed.has(routeShape(route)),
    );
    expect(missing.map(({ from, route }) => `${from}: ${route}`)).to.deep.equal([]);
  });
});

describe('the documents (README.md and docs/)', () => {
  it('link to documents, and sections, that exist', () => {
    const links = linkCitations();
    expect(links.length).to.be.greaterThan(5);
    const broken = links.filter(
      ({ doc, quote }) => !repoPathExists(doc) || (quote !== undefined && !hasQuote(doc, quote)),
    );
    expect(broken.map(({ from, doc, quote }) => `${from}: ${doc} ${quote ?? ''}`)).to.deep.equal(
      [],
    );
  });

  it('name only repository paths that exist', () => {
    const stale = documents().flatMap((from) =>
      pathsNamedIn(repoText(from))
        .filter((path) => !repoPathExists(path))
        .map((path) => `${from}: ${path}`),
    );
    expect(stale).to.deep.equal([]);
  });

  it('treat placeholders and examples as no paths', () => {
    expect(
      pathsNamedIn(
        '`channels/<kind>/`, `domain/…`, `test/**/*.test.ts`, `/v1/me`, `a/b`, `application/problem+json`, `adapters/web/`\n```\n`bin/x.ts`\n```\n',
      ),
    ).to.deep.equal(['adapters/web/']);
  });
});
