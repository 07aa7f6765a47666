import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import type { CallbackCommand, RecordCallbackAttempt } from './callbackCommands.js';
import type { CallbackEvent, CallbackQueued } from './callbackEvents.js';

/**
 * One callback delivery: nothing queued yet, or an event for the app's callback and where its
 * delivery stands: `pending` (an attempt is due, now or at a retry time), `delivered` (answered
 * 2xx) or `failed` (given up).
 */
export type CallbackState =
  | { readonly status: 'empty' }
  | {
      readonly status: 'pending' | 'delivered' | 'failed';
      readonly queued: CallbackQueued['data'];
      /** Attempts recorded so far, across manual retries. */
      readonly attempts: number;
    };

type QueuedCallback = Exclude<CallbackState, { status: 'empty' }>;
type Decision = E.Either<DomainError, readonly CallbackEvent[]>;

/** The stream that holds one callback delivery's events. */
export const callbackStreamName = (deliveryId: string): string => `callback-${deliveryId}`;

const initialState = (): CallbackState => ({ status: 'empty' });

const evolve = (state: CallbackState, event: CallbackEvent): CallbackState => {
  if (event.type === 'CallbackQueued') {
    return state.status === 'empty'
      ? { status: 'pending', queued: event.data, attempts: 0 }
      : state;
  }
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'CallbackDelivered':
      return { ...state, status: 'delivered', attempts: event.data.attempt };
    case 'CallbackFailed':
      return {
        ...state,
        status: event.data.retryAt === undefined ? 'failed' : 'pending',
        attempts: event.data.attempt,
      };
    case 'CallbackRetryRequested':
      return { ...state, status: 'pending' };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

/**
 * Records an attempt. Only the attempt after the last recorded one of a pending delivery counts;
 * anything else is a repeat of a record already made (or of a send that raced a manual retry)
 * and changes nothing.
 */
const recordAttempt = (command: RecordCallbackAttempt, state: QueuedCallback): Decision => {
  const { deliveryId, attempt, durationMs, outcome } = command.data;
  if (state.status !== 'pending' || attempt !== state.attempts + 1) return E.right([]);
  if (outcome.kind === 'delivered') {
    return E.right([
      {
        type: 'CallbackDelivered',
        data: { deliveryId, attempt, status: outcome.status, durationMs },
      },
    ]);
  }
  return E.right([
    {
      type: 'CallbackFailed',
      data: {
        deliveryId,
        attempt,
        error: outcome.error,
        durationMs,
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
        ...(outcome.retryAt === undefined ? {} : { retryAt: outcome.retryAt }),
      },
    },
  ]);
};

const decide = (command: CallbackCommand, state: CallbackState): Decision => {
  if (command.type === 'QueueCallback') {
    if (state.status !== 'empty') return E.right([]);
    // Copied field by field so nothing the command carried beyond its codec reaches the log.
    const { deliveryId, appId, eventType, occurredAt, data } = command.data;
    return E.right([
      { type: 'CallbackQueued', data: { deliveryId, appId, eventType, occurredAt, data } },
    ]);
  }
  if (state.status === 'empty') {
    return E.left(domainError('not_found', 'no such callback delivery'));
  }
  switch (command.type) {
    case 'RecordCallbackAttempt':
      return recordAttempt(command, state);
    case 'RetryCallback':
      // Another app's delivery reads as one that does not exist.
      if (command.data.appId !== state.queued.appId) {
        return E.left(domainError('not_found', 'no such callback delivery'));
      }
      return state.status === 'pending'
        ? E.right([])
        : E.right([
            { type: 'CallbackRetryRequested', data: { deliveryId: command.data.deliveryId } },
          ]);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

/** The Callback aggregate: one event for an app's callback and the attempts to deliver it. */
export const callbackDecider: Decider<CallbackCommand, CallbackEvent, CallbackState> = {
  initialState,
  evolve,
  decide,
};
