import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { HttpUrl, IsoTime } from '../../../domain/shared/codecs.js';
import type { CommandError } from '../../../domain/shared/commandHandler.js';
import { apiStatusOf } from '../../../projections/messages/messageQueries.js';
import { MAX_DELAY_SECONDS } from '../../../application/messages/messageDraft.js';
import { submitMessage } from '../../../application/messages/submitMessage.js';
import {
  MAX_BATCH,
  submitBatch,
  type ItemAnswer,
} from '../../../application/messages/submitBatch.js';
import { withdrawMessage } from '../../../application/messages/withdrawMessage.js';
import type { Refusal } from '../../../application/shared/refusal.js';
import { secureIds } from '../../security/secureIds.js';
import { boundedInt, boundedString, strictObject, withSchema } from '../codecs.js';
import { toJsonSchema } from '../jsonSchema.js';
import {
  fieldProblems as fieldProblemsOf,
  problem,
  problemCatalogue,
  ProblemError,
  type FieldProblem,
  type Problem,
} from '../problem.js';
import { commandProblem, defineRoute, type AppCaller, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';
import { invocationOf, orRefusal, refusalProblem } from './refusals.js';
import { AppDeliveryView, appDeliveryView } from './deliveryView.js';

/** One message as an app sends it (docs/api.md `POST /v1/messages`). */
export const MessageBody = strictObject(
  'Message',
  { body: boundedString('Body', { minLength: 1, maxLength: 4_000 }) },
  {
    key: boundedString('BindingKey', { minLength: 1, maxLength: 128 }),
    openid: boundedString('Openid', { minLength: 1, maxLength: 128 }),
    title: boundedString('Title', { maxLength: 256 }),
    subtitle: boundedString('Subtitle', { maxLength: 256 }),
    url: t.intersection([HttpUrl, boundedString('Url', { maxLength: 2_048 })], 'Url'),
    thread: boundedString('Thread', { minLength: 1, maxLength: 128 }),
    level: t.keyof({ active: null, timeSensitive: null, passive: null }, 'PushLevel'),
    deliverAt: IsoTime,
    delaySeconds: boundedInt('DelaySeconds', { min: 0, max: MAX_DELAY_SECONDS }),
  },
);

const Accepted = t.type(
  { messageId: t.string, status: t.keyof({ accepted: null, scheduled: null, suppressed: null }) },
  'Accepted',
);

/**
 * The batch: its items are decoded one by one (each is answered on its own, a bad one too), so the
 * codec takes any items and the document says what each must be.
 */
const BatchBody = withSchema(strictObject('MessageBatch', { messages: t.array(t.unknown) }), {
  type: 'object',
  properties: {
    messages: {
      type: 'array',
      items: toJsonSchema(MessageBody),
      minItems: 1,
      maxItems: MAX_BATCH,
    },
  },
  required: ['messages'],
  additionalProperties: false,
});

const MessageParams = strictObject('MessageParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 64 }),
});

const MessageView = t.intersection(
  [
    t.type({
      messageId: t.string,
      status: t.string,
      createdAt: t.string,
      deliveries: t.array(AppDeliveryView),
    }),
    t.partial({ deliverAt: t.string, readAt: t.string, reason: t.string }),
  ],
  'MessageView',
);

/** The push routes of apps (docs/api.md, "App"). */
export const messageRoutes = (deps: ApiDeps): Route[] => {
  const submit = submitMessage({ ...deps, ids: secureIds });
  const submitAll = submitBatch({ ...deps, ids: secureIds });
  const withdraw = withdrawMessage(deps);

  /** The app's own message, or 404 (also for another app's). */
  const ownMessage = (caller: AppCaller, messageId: string) => {
    const row = deps.messages.byId(messageId);
    if (row === undefined || row.app_id !== caller.appId)
      throw new ProblemError('not_found', `no message ${messageId}`);
    return row;
  };

  return [
    defineRoute(
      {
        method: 'post',
        path: '/v1/messages',
        tag: 'app',
        summary: 'Send a message to a person',
        description:
          'Identify the person by the binding key from the consent redirect, or by your own openid. accepted: on its way; scheduled: waits for deliverAt; suppressed: the person chose none or blocked you, nothing is delivered.',
        auth: 'app',
        body: MessageBody,
        idempotent: true,
        errors: ['not_found', 'binding_revoked', 'app_suspended', 'app_banned', 'rate_limited'],
        responses: { 202: { description: 'Accepted', body: Accepted } },
      },
      async (request) => ({
        status: 202,
        body: orRefusal(
          await submit(request.caller, request.body, invocationOf(request), request.idempotency),
        ),
      }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/messages/batch',
        tag: 'app',
        summary: `Send up to ${MAX_BATCH} messages`,
        description:
          'Each item is validated and answered on its own; one bad item does not stop the others.',
        auth: 'app',
        body: BatchBody,
        idempotent: true,
        errors: ['rate_limited'],
        responses: {
          200: {
            description: 'One result per item, in order',
            body: t.type({
              results: t.array(
                t.intersection([
                  t.type({ index: t.number }),
                  t.partial({ messageId: t.string, status: t.string, error: t.UnknownRecord }),
                ]),
              ),
            }),
          },
        },
      },
      async (request) => {
        const { messages } = request.body;
        if (messages.length === 0 || messages.length > MAX_BATCH) {
          throw new ProblemError(
            'validation_failed',
            `messages must hold 1 to ${MAX_BATCH} items`,
            {
              errors: [{ path: '/messages', message: `must hold 1 to ${MAX_BATCH} items` }],
            },
          );
        }
        const items = messages.map((item, index) =>
          E.mapLeft((errors: t.Errors) => fieldErrors(errors, `/messages/${index}`))(
            MessageBody.decode(item),
          ),
        );
        const answers = orRefusal(
          await submitAll(request.caller, items, invocationOf(request), request.idempotency),
        );
        const results = answers.map((answer, index) =>
          batchResultOf(answer, index, (error) => {
            deps.logger.error('batch item failed', { index, error, requestId: request.requestId });
          }),
        );
        const retryAfter = Math.max(
          0,
          ...results.map((result) =>
            result.error?.code === 'rate_limited' ? Number(result.error['retryAfterSeconds']) : 0,
          ),
        );
        return {
          status: 200,
          body: { results },
          ...(retryAfter > 0 ? { headers: { 'Retry-After': String(retryAfter) } } : {}),
          // Items told to try again (rate limit, conflict, failure) must run when the batch is
          // sent again with its key; the items that went through answer the same then.
          replayable: !results.some(
            (result) => result.error !== undefined && isTransient(result.error),
          ),
        };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/messages/:messageId',
        tag: 'app',
        summary: 'Where a message is',
        description:
          "One delivery per channel. A device delivery's channel is its kind, and device an opaque reference (12 base64url characters) to which of the person's devices: the same for all your messages to this person, unrelated to what another app sees, never the person's device id. lastError names the kind of device, not the device.",
        auth: 'app',
        params: MessageParams,
        errors: ['not_found'],
        responses: {
          200: { description: 'The message status with one entry per channel', body: MessageView },
        },
      },
      (request) => {
        const row = ownMessage(request.caller, request.params.messageId);
        const now = new Date().toISOString();
        const reason = row.moderation_reason ?? row.suppressed_reason;
        return Promise.resolve({
          status: 200,
          body: {
            messageId: row.message_id,
            status: apiStatusOf(row, now),
            createdAt: row.created_at,
            ...(row.deliver_at === null ? {} : { deliverAt: row.deliver_at }),
            deliveries: deps.messages
              .deliveries(row.message_id)
              .map(appDeliveryView(row.binding_id)),
            ...(row.read_at === null ? {} : { readAt: row.read_at }),
            ...(reason === null ? {} : { reason }),
          },
        });
      },
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/messages/:messageId',
        tag: 'app',
        summary: 'Cancel a scheduled message or recall a delivered one',
        description:
          'A delivered message leaves the inbox and is removed from the device (Bark delete with the same id).',
        auth: 'app',
        params: MessageParams,
        errors: ['not_found', 'illegal_state'],
        responses: {
          200: {
            description: 'What happened',
            body: t.type({ status: t.keyof({ cancelled: null, recalled: null }) }),
          },
        },
      },
      async (request) => {
        const status = orRefusal(
          await withdraw(request.caller.appId, request.params.messageId, invocationOf(request)),
        );
        return { status: 200, body: { status } };
      },
    ),
  ];
};

/** Field problems of a batch item, with paths inside the batch. */
const fieldErrors = (errors: t.Errors, prefix: string): { path: string; message: string }[] =>
  fieldProblemsOf(errors).map((p) => ({
    path: `${prefix}${p.path === '/' ? '' : p.path}`,
    message: p.message,
  }));

/** A validation problem listing its field problems. */
const validationProblem = (errors: readonly { path: string; message: string }[]): Problem =>
  problem('validation_failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });

/**
 * The problem of a batch item's refusal; the paths of its field problems are made paths in the
 * batch (`/messages/3/key`).
 */
const itemRefusalProblem = (refusal: Refusal, at: string): Problem => {
  const errors = refusal.code === 'validation_failed' ? refusal.details?.['errors'] : undefined;
  if (Array.isArray(errors)) {
    return validationProblem(
      (errors as { path: string; message: string }[]).map((e) => ({
        path: `${at}${e.path}`,
        message: e.message,
      })),
    );
  }
  const refused = refusalProblem(refusal);
  return problem(refused.code, refused.message, refused.extensions);
};

/**
 * One item's result in the batch's answer; an unexpected failure is passed to `logFailure`
 * (it is answered as an internal error, and an operator must see it).
 */
const batchResultOf = (
  answer: ItemAnswer<readonly FieldProblem[]>,
  index: number,
  logFailure: (error: unknown) => void,
): BatchResult => {
  switch (answer.kind) {
    case 'submitted':
      return { index, ...answer.message };
    case 'invalid':
      return { index, error: validationProblem(answer.problem) };
    case 'refused':
      return { index, error: itemRefusalProblem(answer.refusal, `/messages/${index}`) };
    case 'failed':
      if (!isExpected(answer.error)) logFailure(answer.error);
      return { index, error: asProblem(answer.error) };
    default: {
      const _exhaustive: never = answer;
      return _exhaustive;
    }
  }
};

/** One item's answer in a batch (docs/api.md `{ index, messageId?, status?, error? }`). */
interface BatchResult {
  readonly index: number;
  readonly messageId?: string;
  readonly status?: string;
  readonly error?: Problem;
}

/** A refusal the API answers with its own code (a problem or a command's error). */
const isExpected = (error: unknown): boolean => {
  if (error instanceof ProblemError) return true;
  const coded = error as Partial<CommandError> | undefined;
  return typeof coded?.code === 'string' && coded.code in problemCatalogue;
};

/** The problem document for a failed item; anything unexpected is an internal error. */
const asProblem = (error: unknown): Problem => {
  if (error instanceof ProblemError) return problem(error.code, error.message, error.extensions);
  if (isExpected(error)) {
    const coded = error as CommandError;
    return problem(commandProblem(coded).code, coded.message);
  }
  return problem('internal_error', 'this message could not be taken; it has been logged');
};

/** An item answer that says "try again" rather than answers the item. */
const isTransient = (error: Problem): boolean =>
  error.status >= 500 || error.code === 'rate_limited' || error.code === 'conflict';
