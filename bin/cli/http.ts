import { Readable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type * as t from 'io-ts';
import { fieldProblems } from '../../adapters/http/problem.js';
import { credentialOf, type Connection, type Credential, type Role } from './connection.js';
import { printed, type Invocation, type Output } from './command.js';
import { failed, type Failure } from './failure.js';
import { jsonText } from './output.js';

/**
 * `tidings` over HTTP with the global `fetch`: one request with the role's token, its refusal
 * (docs/api.md "Conventions": problem+json with a `code`) or an unreachable server turned into
 * a {@link Failure}, and answers decoded with io-ts before anything reads them.
 */

/** How long a JSON request may take, answer included; the export stream has no limit. */
const ANSWER_TIMEOUT_MS = 30_000;

/** What failed under fetch's `TypeError: fetch failed`: `connect ECONNREFUSED 127.0.0.1:8080`. */
const reasonOf = (error: unknown): string => {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${ANSWER_TIMEOUT_MS / 1000} s`;
  }
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  // A name with several addresses (localhost: ::1 and 127.0.0.1) fails with one error for each.
  const first: unknown = cause instanceof AggregateError ? cause.errors[0] : cause;
  if (first instanceof Error && first.message !== '') return first.message;
  return error instanceof Error ? error.message : String(error);
};

/** The error answer as a failure: a problem when it is one, else its status and text. */
const refusalOf = async (response: Response, credential: Credential): Promise<Failure> => {
  const body = await response.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const problem = parsed as { code?: unknown; detail?: unknown; errors?: unknown } | undefined;
  if (typeof problem?.code === 'string') {
    const fields = Array.isArray(problem.errors)
      ? problem.errors.flatMap((field: unknown) => {
          const { path, message } = (field ?? {}) as { path?: unknown; message?: unknown };
          return typeof path === 'string' && typeof message === 'string' ? [{ path, message }] : [];
        })
      : [];
    return {
      kind: 'problem',
      status: response.status,
      code: problem.code,
      detail: typeof problem.detail === 'string' ? problem.detail : '',
      fields,
      ...(response.status === 401 ? { hint: credential.source } : {}),
    };
  }
  return {
    kind: 'http',
    status: response.status,
    statusText: response.statusText,
    body: body.replace(/\s+/g, ' ').trim().slice(0, 200),
  };
};

/** A request with the role's token; a failure unless the server answered 2xx. */
const send = (
  connection: Connection,
  role: Role,
  method: 'GET' | 'POST',
  path: string,
  options: { readonly body?: unknown; readonly timeout: boolean },
): TE.TaskEither<Failure, Response> =>
  pipe(
    TE.fromEither(credentialOf(connection, role)),
    TE.flatMap((credential) =>
      pipe(
        TE.tryCatch(
          () =>
            fetch(`${connection.server}${path}`, {
              method,
              headers: {
                authorization: `Bearer ${credential.token}`,
                accept: 'application/json, application/x-ndjson',
                ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
              },
              ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
              ...(options.timeout ? { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) } : {}),
            }),
          (error): Failure => ({
            kind: 'unreachable',
            url: connection.server,
            reason: reasonOf(error),
          }),
        ),
        TE.flatMap((response) =>
          response.ok
            ? TE.right(response)
            : pipe(
                TE.fromTask(() => refusalOf(response, credential)),
                TE.flatMap((failure) => TE.left<Failure, Response>(failure)),
              ),
        ),
      ),
    ),
  );

/** The JSON answer to a request (null for an empty one, e.g. 204). */
export const requestJson = (
  connection: Connection,
  role: Role,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): TE.TaskEither<Failure, unknown> =>
  pipe(
    send(connection, role, method, path, {
      ...(body === undefined ? {} : { body }),
      timeout: true,
    }),
    TE.flatMap((response) =>
      TE.tryCatch(
        () => response.text(),
        (error): Failure => ({
          kind: 'unreachable',
          url: connection.server,
          reason: reasonOf(error),
        }),
      ),
    ),
    TE.flatMapEither((text) => {
      if (text === '') return E.right(null);
      try {
        return E.right(JSON.parse(text) as unknown);
      } catch {
        return E.left(failed(`the answer to ${method} ${path} is not JSON`));
      }
    }),
  );

/** The body of a GET as a stream, for answers too large to hold (the audit export). */
export const requestStream = (
  connection: Connection,
  role: Role,
  path: string,
): TE.TaskEither<Failure, Readable> =>
  pipe(
    send(connection, role, 'GET', path, { timeout: false }),
    TE.map((response) =>
      response.body === null ? Readable.from([]) : Readable.fromWeb(response.body),
    ),
  );

/**
 * The answer decoded with `codec`, or a failure naming each field that is not as expected
 * (`/items/0/score: must be number`): a server of another version, or not Tidings at all.
 */
export const decodeAnswer =
  <A>(codec: t.Decoder<unknown, A>, what: string) =>
  (answer: unknown): E.Either<Failure, A> =>
    pipe(
      codec.decode(answer),
      E.mapLeft((errors) =>
        failed(
          `the server's ${what} is not as expected: ${fieldProblems(errors)
            .map((field) => `${field.path} ${field.message}`)
            .join('; ')}`,
        ),
      ),
    );

/**
 * A decoded answer printed as `--json` asks (the answer as the server gave it) or as `render`
 * says; the answer is decoded either way, so `--json` never passes on something broken.
 */
export const answerWith =
  <A>(
    invocation: Invocation,
    codec: t.Decoder<unknown, A>,
    what: string,
    render: (answer: A) => string,
  ) =>
  (answer: unknown): E.Either<Failure, Output> =>
    pipe(
      decodeAnswer(codec, what)(answer),
      E.map((decoded) => printed(invocation.json ? jsonText(answer) : render(decoded))),
    );
