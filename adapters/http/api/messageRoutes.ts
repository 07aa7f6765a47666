import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { HttpUrl, IsoTime } from '../../../domain/shared/codecs.js';
import type { CommandError } from '../../../domain/shared/commandHandler.js';
import { MAX_SCHEDULE_DAYS } from '../../../domain/message/messageDecider.js';
import {
  apiStatusOf,
  type ApiMessageStatus,
} from '../../../projections/messages/messageQueries.js';
import { derivedId, hashSecret, newOrderedId } from '../../security/secrets.js';
import { boundedInt, boundedString, strictObject } from '../codecs.js';
import {
  fieldProblems as fieldProblemsOf,
  problem,
  problemCatalogue,
  ProblemError,
  rateLimited,
  type Problem,
} from '../problem.js';
import { commandProblem, defineRoute, orProblem, type AppCaller, type Route } from '../routing.js';
import { commandContext, type ApiDeps } from './deps.js';

const MAX_DELAY_SECONDS = MAX_SCHEDULE_DAYS * 24 * 60 * 60;

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
type MessageInput = t.TypeOf<typeof MessageBody>;

const Accepted = t.type(
  { messageId: t.string, status: t.keyof({ accepted: null, scheduled: null, suppressed: null }) },
  'Accepted',
);

const MAX_BATCH = 500;
const BatchBody = strictObject('MessageBatch', { messages: t.array(t.unknown) });

const MessageParams = strictObject('MessageParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 64 }),
});

const MessageView = t.intersection(
  [
    t.type({
      messageId: t.string,
      status: t.string,
      createdAt: t.string,
      deliveries: t.array(
        t.intersection([
          t.type({ channel: t.string, status: t.string, attempts: t.number }),
          t.partial({ lastError: t.string, deliveredAt: t.string, retryAt: t.string }),
        ]),
      ),
    }),
    t.partial({ deliverAt: t.string, readAt: t.string, reason: t.string }),
  ],
  'MessageView',
);

/**
 * The field problems of one message beyond its codec: one target, one time, not in the past.
 * Paths start with `at` (`/messages/3` for an item of a batch).
 */
const crossFieldProblems = (
  input: MessageInput,
  now: string,
  at: string,
): { path: string; message: string }[] => {
  const problems: { path: string; message: string }[] = [];
  if ((input.key === undefined) === (input.openid === undefined)) {
    problems.push({ path: `${at}/key`, message: 'give exactly one of key or openid' });
  }
  if (input.deliverAt !== undefined && input.delaySeconds !== undefined) {
    problems.push({
      path: `${at}/deliverAt`,
      message: 'give at most one of deliverAt or delaySeconds',
    });
  }
  if (input.deliverAt !== undefined) {
    const time = Date.parse(input.deliverAt);
    if (time < Date.parse(now))
      problems.push({ path: `${at}/deliverAt`, message: 'is in the past' });
    if (time > Date.parse(now) + MAX_DELAY_SECONDS * 1000) {
      problems.push({
        path: `${at}/deliverAt`,
        message: `is more than ${MAX_SCHEDULE_DAYS} days ahead`,
      });
    }
  }
  return problems;
};

/**
 * Where a message's id comes from when its request carries an Idempotency-Key: the key, when the
 * key was first claimed (so every attempt within the 24 h names the same message, and a reuse of
 * the key after them a new one), and the item's index in a batch.
 */
interface MessageIdentity {
  readonly key: string;
  readonly since: string;
  readonly item?: number;
}

/** The push routes of apps (docs/api.md, "App"). */
export const messageRoutes = (deps: ApiDeps): Route[] => {
  /**
   * Submits one decoded message for the calling app; throws a ProblemError when refused. `at` is
   * where the message sits in the request body, for the paths of field problems.
   */
  const submit = async (
    caller: AppCaller,
    input: MessageInput,
    context: { now: string; requestId: string; actor: { kind: 'app'; id: string } },
    identity: MessageIdentity | undefined,
    at = '',
  ): Promise<t.TypeOf<typeof Accepted>> => {
    // A request with an Idempotency-Key is judged as of its first attempt: a retry after the
    // `deliverAt` it was accepted with has passed is the same request, not one for the past.
    const problems = crossFieldProblems(input, identity?.since ?? context.now, at);
    if (problems.length > 0) {
      throw new ProblemError(
        'validation_failed',
        problems.map((p) => `${p.path} ${p.message}`).join('; '),
        {
          errors: problems,
        },
      );
    }
    const messageId =
      identity === undefined
        ? newOrderedId('msg_')
        : derivedId(
            'msg_',
            caller.appId,
            identity.key,
            identity.since,
            ...(identity.item === undefined ? [] : ['item', String(identity.item)]),
          );
    // A retry of a message already taken (same key, same first claim) sends nothing new, so it
    // takes no token: a batch sent again after its rate-limited items answers the rest.
    const repeat = identity !== undefined && deps.messages.byId(messageId) !== undefined;
    const rate = repeat ? { allowed: true as const } : deps.appRateLimit.take(caller.appId);
    if (!rate.allowed) {
      throw rateLimited('too many messages from this app', rate.retryAfterSeconds);
    }
    const binding =
      input.key !== undefined
        ? deps.bindings.byKeyHash(hashSecret(input.key))
        : deps.bindings.byAppAndOpenid(caller.appId, input.openid ?? '');
    // A key of another app's binding answers exactly like an unknown key (docs/api.md).
    if (binding === undefined || binding.app_id !== caller.appId) {
      throw new ProblemError(
        'not_found',
        input.key !== undefined
          ? 'no binding has this key'
          : `no binding for openid ${input.openid ?? ''}`,
      );
    }
    // A delay counts from the first attempt of a request with an Idempotency-Key, so a retry
    // after a failure submits the very same message (same id, same time).
    const delayFrom = Date.parse(identity?.since ?? context.now);
    const deliverAt =
      input.deliverAt !== undefined
        ? new Date(input.deliverAt).toISOString()
        : input.delaySeconds !== undefined && input.delaySeconds > 0
          ? new Date(delayFrom + input.delaySeconds * 1000).toISOString()
          : undefined;
    const result = await deps.commands.execute(
      'message',
      messageId,
      {
        type: 'SubmitMessage',
        data: {
          messageId,
          appId: caller.appId,
          bindingId: binding.binding_id,
          recipientId: binding.recipient_id,
          body: input.body,
          ...(input.title === undefined ? {} : { title: input.title }),
          ...(input.subtitle === undefined ? {} : { subtitle: input.subtitle }),
          ...(input.url === undefined ? {} : { url: input.url }),
          ...(input.thread === undefined ? {} : { thread: input.thread }),
          ...(input.level === undefined ? {} : { level: input.level }),
          ...(deliverAt === undefined ? {} : { deliverAt }),
          binding: { status: binding.status, level: binding.level, blocked: binding.blocked === 1 },
          app: {
            status: caller.status,
            ...(caller.suspendedUntil === undefined
              ? {}
              : { suspendedUntil: caller.suspendedUntil }),
          },
        },
        metadata: { now: context.now },
      },
      commandContext(context, identity === undefined ? undefined : `submit:${messageId}`),
    );
    const submitted = orProblem(result);
    const suppressed = submitted.state.status === 'suppressed';
    return {
      messageId,
      status: suppressed ? 'suppressed' : deliverAt !== undefined ? 'scheduled' : 'accepted',
    };
  };

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
        body: await submit(
          request.caller,
          request.body,
          { ...request, actor: { kind: 'app', id: request.caller.appId } },
          request.idempotency,
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
        const context = { ...request, actor: { kind: 'app' as const, id: request.caller.appId } };
        const results: BatchResult[] = await Promise.all(
          messages.map(async (item, index): Promise<BatchResult> => {
            const at = `/messages/${index}`;
            const decoded = MessageBody.decode(item);
            if (E.isLeft(decoded)) {
              const errors = fieldErrors(decoded.left, at);
              return {
                index,
                error: problem(
                  'validation_failed',
                  errors.map((e) => `${e.path} ${e.message}`).join('; '),
                  { errors },
                ),
              };
            }
            const identity =
              request.idempotency === undefined
                ? undefined
                : { ...request.idempotency, item: index };
            try {
              return {
                index,
                ...(await submit(request.caller, decoded.right, context, identity, at)),
              };
            } catch (error) {
              // Each item is answered on its own, an unexpected failure too: the others went
              // through, and the app must learn which.
              if (!isExpected(error)) {
                deps.logger.error('batch item failed', {
                  index,
                  error,
                  requestId: request.requestId,
                });
              }
              return { index, error: asProblem(error) };
            }
          }),
        );
        const retryAfter = Math.max(
          0,
          ...results.map((result) =>
            result.error?.code === 'rate_limited' ? Number(result.error['retryAfterSeconds']) : 0,
          ),
        );
        const valid = results.filter((result) => result.error?.code !== 'validation_failed');
        if (valid.length > 0 && valid.every((result) => result.error?.code === 'rate_limited')) {
          // Not one message went through: the whole batch is refused, as a single message is.
          throw rateLimited('too many messages from this app', retryAfter);
        }
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
            deliveries: deps.messages.deliveries(row.message_id).map((d) => ({
              channel: d.channel,
              status: d.status,
              attempts: d.attempts,
              ...(d.last_error === null ? {} : { lastError: d.last_error }),
              ...(d.delivered_at === null ? {} : { deliveredAt: d.delivered_at }),
              ...(d.retry_at === null ? {} : { retryAt: d.retry_at }),
            })),
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
        const row = ownMessage(request.caller, request.params.messageId);
        const status: ApiMessageStatus = apiStatusOf(row, request.now);
        const messageId = row.message_id;
        const metadata = { now: request.now };
        const appId = request.caller.appId;
        const withdraw = (recall: boolean) =>
          deps.commands.execute(
            'message',
            messageId,
            recall
              ? { type: 'RecallMessage', data: { messageId, appId }, metadata }
              : { type: 'CancelMessage', data: { messageId, appId }, metadata },
            commandContext(request),
          );
        let recall = status === 'delivered' || status === 'recalled';
        let result = await withdraw(recall);
        // The read model may not show the latest routing yet; the aggregate's refusal names its
        // own status, which decides.
        if (
          !recall &&
          E.isLeft(result) &&
          result.left.code === 'illegal_state' &&
          (result.left.details?.['status'] === 'delivered' ||
            result.left.details?.['status'] === 'recalled')
        ) {
          recall = true;
          result = await withdraw(recall);
        }
        orProblem(result);
        return { status: 200, body: { status: recall ? 'recalled' : 'cancelled' } };
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
