import * as t from 'io-ts';
import {
  commandCodec,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../shared/codecs.js';
import { QueuedCallbackData } from './callbackEvents.js';

/**
 * Queues one callback event. The caller derives `deliveryId` from the event it reports, so
 * queueing it again (a reactor seeing its event twice) changes nothing.
 */
export const QueueCallback = commandCodec('QueueCallback', QueuedCallbackData);
export type QueueCallback = t.TypeOf<typeof QueueCallback>;

/** What became of one attempt: answered 2xx, or not (`retryAt` absent: give up). */
export const CallbackAttemptOutcome = t.union([
  t.type({ kind: t.literal('delivered'), status: PositiveInt }),
  withOptional(
    { kind: t.literal('failed'), error: t.string },
    { status: PositiveInt, retryAt: IsoTime },
  ),
]);
export type CallbackAttemptOutcome = t.TypeOf<typeof CallbackAttemptOutcome>;

/**
 * Records attempt `attempt` of a delivery. Only the attempt after the last one recorded counts:
 * a repeat (the worker retrying its record) changes nothing.
 */
export const RecordCallbackAttempt = commandCodec(
  'RecordCallbackAttempt',
  t.type({
    deliveryId: t.string,
    attempt: PositiveInt,
    durationMs: NonNegativeInt,
    outcome: CallbackAttemptOutcome,
  }),
);
export type RecordCallbackAttempt = t.TypeOf<typeof RecordCallbackAttempt>;

/** The app asks for a delivery again, delivered or given up; one still pending is left as is. */
export const RetryCallback = commandCodec(
  'RetryCallback',
  t.type({ deliveryId: t.string, appId: t.string }),
);
export type RetryCallback = t.TypeOf<typeof RetryCallback>;

/** Every command of the Callback aggregate. */
export const CallbackCommandCodec = t.union([QueueCallback, RecordCallbackAttempt, RetryCallback]);
export type CallbackCommand = t.TypeOf<typeof CallbackCommandCodec>;

/** The type names of Callback commands, read off the codecs. */
export const callbackCommandTypes: readonly CallbackCommand['type'][] =
  typeNamesOf(CallbackCommandCodec);
