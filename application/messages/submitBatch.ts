import * as E from 'fp-ts/lib/Either.js';
import type { Invocation } from '../shared/invocation.js';
import { rateLimited, type RateLimited, type Refusal } from '../shared/refusal.js';
import type { MessageDraft } from './messageDraft.js';
import {
  submitMessage,
  type MessageIdentity,
  type SendingApp,
  type SubmitMessageDeps,
  type SubmittedMessage,
} from './submitMessage.js';

/** The most messages one batch may hold. */
export const MAX_BATCH = 500;

/** How one item of a batch went; `Invalid` is how the edge says an item is not a message. */
export type ItemAnswer<Invalid> =
  | { readonly kind: 'invalid'; readonly problem: Invalid }
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'submitted'; readonly message: SubmittedMessage };

/**
 * Submits a batch (docs/api.md `POST /v1/messages/batch`), each item on its own: one bad or
 * refused item does not stop the others, and an unexpected failure of one is answered as its
 * own, since the others went through and the app must learn which. When not one valid item got
 * past the rate limit, the whole batch is refused, as a single message is.
 */
export const submitBatch = (deps: SubmitMessageDeps) => {
  const submit = submitMessage(deps);
  return async <Invalid>(
    app: SendingApp,
    items: readonly E.Either<Invalid, MessageDraft>[],
    call: Invocation,
    identity?: Omit<MessageIdentity, 'item'>,
  ): Promise<E.Either<RateLimited, ItemAnswer<Invalid>[]>> => {
    const answers = await Promise.all(
      items.map(async (item, index): Promise<ItemAnswer<Invalid>> => {
        if (E.isLeft(item)) return { kind: 'invalid', problem: item.left };
        try {
          const submitted = await submit(
            app,
            item.right,
            call,
            identity === undefined ? undefined : { ...identity, item: index },
          );
          return E.isRight(submitted)
            ? { kind: 'submitted', message: submitted.right }
            : { kind: 'refused', refusal: submitted.left };
        } catch (error) {
          return { kind: 'failed', error };
        }
      }),
    );
    const limited = answers.flatMap((answer) =>
      answer.kind === 'refused' && answer.refusal.code === 'rate_limited' ? [answer.refusal] : [],
    );
    const valid = answers.filter(
      (answer) =>
        answer.kind !== 'invalid' &&
        !(answer.kind === 'refused' && answer.refusal.code === 'validation_failed'),
    );
    if (valid.length > 0 && valid.length === limited.length) {
      const wait = Math.max(...limited.map((refusal) => refusal.retryAfterSeconds));
      return E.left(rateLimited('too many messages from this app', wait));
    }
    return E.right(answers);
  };
};
