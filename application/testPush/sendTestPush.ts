import * as E from 'fp-ts/lib/Either.js';
import { formatDateTime, translate } from '../i18n/catalogue.js';
import { chooseLocale } from '../i18n/chooseLocale.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { Invocation } from '../shared/invocation.js';
import { isPromise } from '../shared/maybePromise.js';
import type { RateLimiter } from '../shared/rateLimiter.js';
import { rateLimited, type Refusal } from '../shared/refusal.js';
import { sendSystemMessage, type SystemAppDeps } from '../systemApp/systemAppMessage.js';

/** What sending a test push needs: the built-in app's (application/systemApp), and these. */
export interface SendTestPushDeps extends SystemAppDeps {
  readonly recipients: RecipientQueries;
  /** Test pushes per person: a few at once, then about one a minute. */
  readonly testPushLimit: RateLimiter;
}

/** A test push submitted, with the person's settings for the system app that decide its way. */
export interface TestPushSent {
  readonly messageId: string;
  readonly status: 'accepted' | 'suppressed';
  readonly level: 'strong' | 'weak' | 'none';
  readonly blocked: boolean;
  readonly muted: boolean;
}

/**
 * Sends a person a test push from the system app (docs/api.md `POST /v1/me/test-push`),
 * authorizing it at level strong on first use or after the person unbound it. It is moderated,
 * routed and delivered like any message. With `deviceId` (`POST /v1/me/devices/:id/test`) the
 * message names that one device, and the router pushes to it alone. Its words are in the
 * person's language (their preference, else the request's `Accept-Language`, else English), its
 * time in their time zone (UTC when they chose none).
 */
export const sendTestPush =
  (deps: SendTestPushDeps) =>
  async (
    recipientId: string,
    call: Invocation,
    deviceId?: string,
    acceptLanguage?: string,
  ): Promise<E.Either<Refusal, TestPushSent>> => {
    if (deviceId !== undefined && deps.recipients.device(recipientId, deviceId) === undefined) {
      return E.left(domainError('not_found', `no device ${deviceId}`, { deviceId }));
    }
    if (deps.recipients.devices(recipientId).length === 0) {
      return E.left(domainError('illegal_state', 'set up a device first, then test it'));
    }
    const taken = deps.testPushLimit.take(recipientId);
    const rate = isPromise(taken) ? await taken : taken;
    if (!rate.allowed) return E.left(rateLimited('too many test pushes', rate.retryAfterSeconds));
    const messageId = deps.ids.ordered('msg_');
    const preferences = deps.recipients.preferences(recipientId);
    const locale = chooseLocale({ preference: preferences.locale, acceptLanguage });
    const time = formatDateTime(locale, call.now, preferences.timeZone ?? 'UTC', {
      timeStyle: 'short',
    });
    const zone = preferences.timeZone ?? 'UTC';
    const sent = await sendSystemMessage(
      deps,
      {
        messageId,
        recipientId,
        title: translate(locale, 'testPush.title'),
        body: translate(locale, 'testPush.body', { time: `${time} (${zone})` }),
        thread: 'tidings-test',
        level: 'active',
        // A device's own test goes to that device alone, whatever the binding chose.
        ...(deviceId === undefined ? {} : { deviceId }),
      },
      call,
    );
    if (E.isLeft(sent)) return sent;
    const { binding } = sent.right;
    return E.right({
      messageId,
      status: sent.right.status,
      level: binding.level,
      blocked: binding.blocked === 1,
      muted: binding.muted_until !== null && binding.muted_until > call.now,
    });
  };
