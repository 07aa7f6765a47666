import * as t from 'io-ts';
import {
  eventCodec,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../shared/codecs.js';
import { CallbackEventType } from './callbackEventTypes.js';

/**
 * What a callback event says (docs/api.md, "App callbacks"): ids, levels, scores and reasons
 * Tidings wrote itself. Never a message's contents, never who complained.
 */
export const CallbackData = t.record(t.string, t.union([t.string, t.number]), 'CallbackData');
export type CallbackData = t.TypeOf<typeof CallbackData>;

/**
 * Something the app asked to hear about happened: it is to be POSTed to the app's callback.
 * `deliveryId` is the `webhook-id` of every attempt and the body's `id`; `occurredAt` is when
 * the event it reports happened.
 */
export const CallbackQueued = eventCodec(
  'CallbackQueued',
  t.type({
    deliveryId: t.string,
    appId: t.string,
    eventType: CallbackEventType,
    occurredAt: IsoTime,
    data: CallbackData,
  }),
);
/** What a queued callback is: also what `QueueCallback` carries. */
export const QueuedCallbackData = CallbackQueued.props.data;
export type CallbackQueued = t.TypeOf<typeof CallbackQueued>;

/** Attempt `attempt` was answered 2xx (`status`) within the time limit. */
export const CallbackDelivered = eventCodec(
  'CallbackDelivered',
  t.type({
    deliveryId: t.string,
    attempt: PositiveInt,
    status: PositiveInt,
    durationMs: NonNegativeInt,
  }),
);
export type CallbackDelivered = t.TypeOf<typeof CallbackDelivered>;

/**
 * Attempt `attempt` failed: answered `status` (not 2xx), or not at all (`error` says why).
 * `retryAt` is when the next attempt is due; without it the delivery is given up.
 */
export const CallbackFailed = eventCodec(
  'CallbackFailed',
  withOptional(
    {
      deliveryId: t.string,
      attempt: PositiveInt,
      error: t.string,
      durationMs: NonNegativeInt,
    },
    { status: PositiveInt, retryAt: IsoTime },
  ),
);
export type CallbackFailed = t.TypeOf<typeof CallbackFailed>;

/** The app asked for the delivery again (`POST …/deliveries/:id/retry`): a new 24 h window. */
export const CallbackRetryRequested = eventCodec(
  'CallbackRetryRequested',
  t.type({ deliveryId: t.string }),
);
export type CallbackRetryRequested = t.TypeOf<typeof CallbackRetryRequested>;

/** Every event of the Callback aggregate (stream `callback-<deliveryId>`). */
export const CallbackEventCodec = t.union([
  CallbackQueued,
  CallbackDelivered,
  CallbackFailed,
  CallbackRetryRequested,
]);
export type CallbackEvent = t.TypeOf<typeof CallbackEventCodec>;

/** The type names of Callback events, read off the codecs. */
export const callbackEventNames: readonly CallbackEvent['type'][] = typeNamesOf(CallbackEventCodec);
