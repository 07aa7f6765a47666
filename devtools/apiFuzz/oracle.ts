import type { FuzzCase } from './fuzzCase.js';
import {
  operationName,
  type ApiDescription,
  type Operation,
  type Schema,
} from './openApiDocument.js';
import type { WireAnswer } from './wire.js';

/**
 * What every answer must be, whatever was sent: never a 5xx; a status the operation documents;
 * for an error, an `application/problem+json` body whose `code` is in the catalogue and is
 * documented under that status; for a success, the body the document describes; a wrong
 * credential never gets a success, and on a valid request is exactly 401. A wrong method is 405
 * `method_not_allowed` with `Allow`.
 */

/** One broken rule: a stable `rule` (what reports group by) and a `detail` for people. */
export interface Violation {
  readonly rule: string;
  readonly detail: string;
}

/** Checks a success body against its documented schema; lists what does not match. */
export type SchemaCheck = (root: unknown, schema: Schema, value: unknown) => readonly string[];

const violation = (rule: string, detail: string): Violation => ({ rule, detail });

/** The documented operation a case aims at, if the document has it. */
export const operationOf = (api: ApiDescription, fuzzCase: FuzzCase): Operation | undefined =>
  api.operations.find(
    (operation) =>
      operation.method === fuzzCase.operation.method && operation.path === fuzzCase.operation.path,
  );

const parseJson = (body: Buffer): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) };
  } catch {
    return { ok: false };
  }
};

const problemViolations = (
  api: ApiDescription,
  operation: Operation | undefined,
  answer: WireAnswer,
): Violation[] => {
  const found: Violation[] = [];
  const type = answer.headers.get('content-type') ?? '';
  if (!/^application\/problem\+json\b/i.test(type)) {
    found.push(
      violation(
        'not problem+json',
        `a ${answer.status} answer with Content-Type ${JSON.stringify(type)} and ${answer.body.length} bytes: ${JSON.stringify(answer.body.subarray(0, 200).toString('utf8'))}`,
      ),
    );
    return found;
  }
  const parsed = parseJson(answer.body);
  const problem =
    parsed.ok && typeof parsed.value === 'object' && parsed.value !== null
      ? (parsed.value as Record<string, unknown>)
      : undefined;
  if (problem === undefined) {
    found.push(
      violation('problem is not a JSON object', answer.body.subarray(0, 200).toString('utf8')),
    );
    return found;
  }
  const code = problem['code'];
  if (typeof code !== 'string' || !api.problemCodes.has(code)) {
    found.push(violation('code not in the catalogue', `code ${JSON.stringify(code)}`));
    return found;
  }
  if (problem['status'] !== answer.status) {
    found.push(
      violation(
        'problem status differs',
        `body status ${JSON.stringify(problem['status'])}, HTTP ${answer.status}`,
      ),
    );
  }
  const catalogued = api.statusOfCode.get(code);
  if (catalogued !== undefined && catalogued !== answer.status) {
    found.push(
      violation(
        'code answered with another status',
        `${code} is ${catalogued} in the document, answered ${answer.status}`,
      ),
    );
  }
  for (const member of ['type', 'title', 'detail']) {
    if (typeof problem[member] !== 'string' || problem[member] === '') {
      found.push(
        violation('problem member missing', `${member} is ${JSON.stringify(problem[member])}`),
      );
    }
  }
  const documented = operation?.answers.get(answer.status);
  if (operation !== undefined && documented !== undefined && !documented.problemCodes.has(code)) {
    found.push(
      violation(
        'undocumented code',
        `${code} is not among the codes ${operationName(operation)} documents under ${answer.status} (${[...documented.problemCodes].join(', ')})`,
      ),
    );
  }
  for (const header of documented?.headers ?? []) {
    if (!answer.headers.has(header))
      found.push(violation('documented header missing', `${header} on a ${answer.status}`));
  }
  return found;
};

const successViolations = (
  api: ApiDescription,
  operation: Operation,
  answer: WireAnswer,
  checkSchema: SchemaCheck | undefined,
): Violation[] => {
  const documented = operation.answers.get(answer.status);
  if (documented === undefined) return [];
  if (!documented.hasContent) {
    return answer.body.length === 0
      ? []
      : [
          violation(
            'body on an answer documented without one',
            `${answer.body.length} bytes of ${answer.headers.get('content-type') ?? 'no type'}`,
          ),
        ];
  }
  if (documented.json === undefined) return [];
  const type = answer.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return [violation('success is not JSON', `Content-Type ${JSON.stringify(type)}`)];
  }
  const parsed = parseJson(answer.body);
  if (!parsed.ok)
    return [violation('success body is not JSON', answer.body.subarray(0, 200).toString('utf8'))];
  const problems = checkSchema?.(api.root, documented.json, parsed.value) ?? [];
  return problems.length === 0
    ? []
    : [violation('success body does not match its schema', problems.slice(0, 5).join('; '))];
};

/** Whether the case presents a credential the operation accepts. */
export const presentsAcceptedCredential = (operation: Operation, fuzzCase: FuzzCase): boolean =>
  operation.security.length === 0 ||
  (fuzzCase.credential.kind === 'scheme' &&
    operation.security.includes(fuzzCase.credential.scheme));

/**
 * What a request reaches, judged from the path it really sent (an empty parameter, or a literal
 * segment such as `batch` where another template has a parameter, sends it to another path): the
 * documented operation of its method, a documented path without that method (405), or nothing
 * (404). The case's own path is preferred, then the others in document order. Like express, a
 * trailing slash is ignored.
 */
type Reached =
  | { readonly kind: 'operation'; readonly operation: Operation }
  | { readonly kind: 'method not allowed'; readonly methods: readonly string[] }
  | { readonly kind: 'no path' };

const pathsMatching = (api: ApiDescription, sentPath: string): string[] => {
  const segments = sentPath.replace(/(.)\/$/, '$1').split('/');
  return [...api.methodsByPath.keys()].filter((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, index) =>
        /^\{.+\}$/.test(part) ? segments[index] !== '' : part === segments[index],
      )
    );
  });
};

export const reachedBy = (
  api: ApiDescription,
  fuzzCase: FuzzCase,
  sentPath: string | undefined,
): Reached => {
  const own = fuzzCase.operation.path;
  const matching = sentPath === undefined ? [own] : pathsMatching(api, sentPath);
  const ordered = matching.includes(own) ? [own, ...matching.filter((p) => p !== own)] : matching;
  for (const path of ordered) {
    const operation = api.operations.find(
      (candidate) => candidate.path === path && candidate.method === fuzzCase.method,
    );
    if (operation !== undefined) return { kind: 'operation', operation };
  }
  if (ordered.length === 0) return { kind: 'no path' };
  return {
    kind: 'method not allowed',
    methods: [...new Set(ordered.flatMap((path) => api.methodsByPath.get(path) ?? []))],
  };
};

/** The rules of a 405: `Allow` lists the path's methods, the code is `method_not_allowed`. */
const methodNotAllowedViolations = (
  api: ApiDescription,
  fuzzCase: FuzzCase,
  answer: WireAnswer,
  methods: readonly string[],
): Violation[] => {
  const found: Violation[] = [];
  if (answer.status !== 405) {
    found.push(
      violation(
        'wrong method not 405',
        `answered ${answer.status} to ${fuzzCase.method.toUpperCase()} ${fuzzCase.operation.path}`,
      ),
    );
  } else {
    const allow = (answer.headers.get('allow') ?? '').toUpperCase().split(/\s*,\s*/);
    if (methods.some((method) => !allow.includes(method.toUpperCase())))
      found.push(
        violation(
          '405 without Allow',
          `Allow: ${JSON.stringify(answer.headers.get('allow') ?? null)}`,
        ),
      );
  }
  if (answer.status >= 400) found.push(...problemViolations(api, undefined, answer));
  if (answer.status === 405 && api.problemCodes.has('method_not_allowed')) {
    // No operation documents its own 405, so the catalogue's code for it is checked by name.
    const code = (parseJson(answer.body) as { value?: { code?: unknown } }).value?.code;
    if (code !== 'method_not_allowed')
      found.push(violation('405 with another code', `code ${JSON.stringify(code)}`));
  }
  return found;
};

/** The rules of a request that reached a documented operation. */
const operationViolations = (
  api: ApiDescription,
  fuzzCase: FuzzCase,
  answer: WireAnswer,
  operation: Operation,
  checkSchema: SchemaCheck | undefined,
): Violation[] => {
  const found: Violation[] = [];
  const { status } = answer;
  if (!operation.answers.has(status)) {
    found.push(
      violation(
        'undocumented status',
        `${operationName(operation)} answered ${status}; it documents ${[...operation.answers.keys()].join(', ')}`,
      ),
    );
  }
  if (status >= 400) found.push(...problemViolations(api, operation, answer));
  else if (status >= 200 && status < 300)
    found.push(...successViolations(api, operation, answer, checkSchema));
  if (!presentsAcceptedCredential(operation, fuzzCase)) {
    if (status < 400) {
      found.push(
        violation(
          'success without the credential',
          `${operationName(operation)} answered ${status} to ${fuzzCase.credential.kind === 'none' ? 'no credential' : `a ${fuzzCase.credential.kind} credential`}`,
        ),
      );
    } else if (
      fuzzCase.family === 'credentials' &&
      operation === operationOf(api, fuzzCase) &&
      status !== 401 &&
      status !== 431
    ) {
      // A valid request with a wrong credential has nothing else wrong with it: 401 it must be.
      found.push(violation('wrong credential not 401', `answered ${status}`));
    }
  }
  return found;
};

/**
 * Every rule the answer to `fuzzCase` breaks (empty when it keeps them all). `sentPath` is the
 * path the request really sent (without the query), which decides what it reached.
 */
export const judgeAnswer = (
  api: ApiDescription,
  fuzzCase: FuzzCase,
  answer: WireAnswer,
  checkSchema?: SchemaCheck,
  sentPath?: string,
): Violation[] => {
  const found: Violation[] =
    answer.status >= 500 ? [violation('5xx', `answered ${answer.status}`)] : [];
  const reached = reachedBy(api, fuzzCase, sentPath);
  switch (reached.kind) {
    case 'operation':
      return [
        ...found,
        ...operationViolations(api, fuzzCase, answer, reached.operation, checkSchema),
      ];
    case 'method not allowed':
      return [...found, ...methodNotAllowedViolations(api, fuzzCase, answer, reached.methods)];
    case 'no path':
      return [
        ...found,
        ...(answer.status === 404
          ? problemViolations(api, undefined, answer)
          : [violation('unknown path not 404', `answered ${answer.status}`)]),
      ];
    default: {
      const _exhaustive: never = reached;
      return _exhaustive;
    }
  }
};
