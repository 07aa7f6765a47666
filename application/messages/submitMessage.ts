import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { BindingQueries } from '../../projections/bindings/bindingQueries.js';
import type { BindingRow } from '../../projections/bindings/bindingsProjection.js';
import type { MessageQueries } from '../../projections/messages/messageQueries.js';
import type { SubmitMessage } from '../../domain/message/messageCommands.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import { isPromise } from '../shared/maybePromise.js';
import type { RateLimiter } from '../shared/rateLimiter.js';
import { rateLimited, type Refusal } from '../shared/refusal.js';
import { inlineSubmission, type InlineStages } from './inlineStages.js';
import { deliveryTimeOf, draftProblems, type MessageDraft } from './messageDraft.js';

/** What submitting a message needs. */
export interface SubmitMessageDeps {
  readonly commands: CommandBus;
  readonly bindings: BindingQueries;
  readonly messages: MessageQueries;
  /** Messages per app: a burst, then a steady rate. */
  readonly appRateLimit: RateLimiter;
  readonly ids: Ids;
  /**
   * Moderation and routing in the submission's own command, when the server has only local
   * policies and routes on this node (see InlineStages); absent, the stages do it.
   */
  readonly inline?: InlineStages;
}

/** The app that sends, as its credential showed it. */
export interface SendingApp {
  readonly appId: string;
  readonly status: 'active' | 'suspended' | 'banned';
  readonly suspendedUntil?: string;
}

/**
 * Where a message's id comes from when its request is repeatable (an Idempotency-Key): the key,
 * when the key was first claimed (so every attempt within its lifetime names the same message,
 * and a reuse of the key after it a new one), and the item's index in a batch.
 */
export interface MessageIdentity {
  readonly key: string;
  readonly since: string;
  readonly item?: number;
}

/** A message taken: on its way, waiting for its time, or suppressed by the person's choice. */
export interface SubmittedMessage {
  readonly messageId: string;
  readonly status: 'accepted' | 'scheduled' | 'suppressed';
}

/**
 * Submits one message for an app (docs/api.md `POST /v1/messages`): checks the draft, takes a
 * token of the app's rate limit, finds the binding by key or openid and submits the message,
 * which the Message aggregate accepts, schedules, suppresses or refuses.
 */
export const submitMessage =
  (deps: SubmitMessageDeps) =>
  async (
    app: SendingApp,
    draft: MessageDraft,
    call: Invocation,
    identity?: MessageIdentity,
  ): Promise<E.Either<Refusal, SubmittedMessage>> => {
    // A repeatable request is judged as of its first attempt: a retry after the `deliverAt` it
    // was accepted with has passed is the same request, not one for the past.
    const asOf = identity?.since ?? call.now;
    const problems = draftProblems(draft, asOf);
    if (problems.length > 0) {
      const message = problems.map((p) => `${p.path} ${p.message}`).join('; ');
      return E.left(domainError('validation_failed', message, { errors: problems }));
    }
    const messageId = messageIdOf(deps.ids, app.appId, identity);
    // A retry of a message already taken (same key, same first claim) sends nothing new, so it
    // takes no token: a batch sent again after its rate-limited items answers the rest.
    const repeat = identity !== undefined && deps.messages.byId(messageId) !== undefined;
    const taken = repeat ? { allowed: true as const } : deps.appRateLimit.take(app.appId);
    // The hot path: an in-process limiter's answer is used as it is, without a turn of the loop.
    const rate = isPromise(taken) ? await taken : taken;
    if (!rate.allowed) {
      return E.left(rateLimited('too many messages from this app', rate.retryAfterSeconds));
    }
    const binding = bindingOf(deps, app.appId, draft);
    if (E.isLeft(binding)) return binding;
    // A delay counts from the first attempt too, so a retry after a failure submits the very
    // same message (same id, same time).
    const deliverAt = deliveryTimeOf(draft, asOf);
    const submit: SubmitMessage = {
      type: 'SubmitMessage',
      data: {
        messageId,
        appId: app.appId,
        bindingId: binding.right.binding_id,
        recipientId: binding.right.recipient_id,
        ...contentOf(draft),
        ...(deliverAt === undefined ? {} : { deliverAt }),
        binding: bindingFacts(binding.right),
        app: {
          status: app.status,
          ...(app.suspendedUntil === undefined ? {} : { suspendedUntil: app.suspendedUntil }),
        },
      },
      metadata: { now: call.now },
    };
    // A message due now, new, that the binding lets through is moderated and routed in this very
    // command when it can be; a repeat, one for later, or one to be suppressed is submitted alone.
    const inline =
      deps.inline !== undefined && deliverAt === undefined && !repeat && passes(submit.data.binding)
        ? await inlineSubmission(deps.inline, submit)
        : undefined;
    const context =
      identity === undefined
        ? // A new ordered id names a stream no one has written.
          { ...call.commandContext(), newStream: true }
        : call.commandContext(`submit:${messageId}`);
    const result = await deps.commands.execute(
      'message',
      messageId,
      inline?.commands ?? submit,
      // The verdict follows from the submission and the routing from the verdict, as with the
      // stages: auditors read the same causal chain.
      inline === undefined ? context : { ...context, chained: true },
    );
    inline?.settle(result);
    if (E.isLeft(result)) return result;
    const suppressed = result.right.state.status === 'suppressed';
    return E.right({
      messageId,
      status: suppressed ? 'suppressed' : deliverAt !== undefined ? 'scheduled' : 'accepted',
    });
  };

/** A new message id, or the one every attempt of a repeatable request names. */
const messageIdOf = (ids: Ids, appId: string, identity: MessageIdentity | undefined): string =>
  identity === undefined
    ? ids.ordered('msg_')
    : ids.derived(
        'msg_',
        appId,
        identity.key,
        identity.since,
        ...(identity.item === undefined ? [] : ['item', String(identity.item)]),
      );

/** The app's binding the draft names; a key of another app's answers like an unknown key. */
const bindingOf = (
  deps: SubmitMessageDeps,
  appId: string,
  draft: MessageDraft,
): E.Either<Refusal, BindingRow> => {
  const binding =
    draft.key !== undefined
      ? deps.bindings.byKeyHash(deps.ids.hash(draft.key))
      : deps.bindings.byAppAndOpenid(appId, draft.openid ?? '');
  // docs/api.md: another app's binding answers 404, exactly like a missing one.
  if (binding === undefined || binding.app_id !== appId) {
    return E.left(
      domainError(
        'not_found',
        draft.key !== undefined
          ? 'no binding has this key'
          : `no binding for openid ${draft.openid ?? ''}`,
      ),
    );
  }
  return E.right(binding);
};

/** What the person reads: the body and the optional parts the draft has. */
const contentOf = (draft: MessageDraft) => ({
  body: draft.body,
  ...(draft.title === undefined ? {} : { title: draft.title }),
  ...(draft.subtitle === undefined ? {} : { subtitle: draft.subtitle }),
  ...(draft.url === undefined ? {} : { url: draft.url }),
  ...(draft.thread === undefined ? {} : { thread: draft.thread }),
  ...(draft.level === undefined ? {} : { level: draft.level }),
});

/** A binding whose messages go on: active, not blocked, and heard at some level. */
const passes = (binding: SubmitMessage['data']['binding']): boolean =>
  binding.status === 'active' && !binding.blocked && binding.level !== 'none';

/** The binding as the Message aggregate decides with it. */
const bindingFacts = (binding: BindingRow) => ({
  status: binding.status,
  level: binding.level,
  blocked: binding.blocked === 1,
});
