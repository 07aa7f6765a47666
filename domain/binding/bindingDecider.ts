import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import { isAfter, isSameInstant } from '../shared/time.js';
import type { AuthorizeBinding, BindingCommand } from './bindingCommands.js';
import type { BindingEvent, BindingLevel } from './bindingEvents.js';

/** What is known about a binding once consent was given. */
export interface BindingFacts {
  readonly bindingId: string;
  readonly appId: string;
  readonly openid: string;
  /** The person who owns the binding now (a re-authorization after revocation may change it). */
  readonly recipientId: string;
  readonly level: BindingLevel;
  /** Hash of the only key that currently identifies this binding to the app. */
  readonly keyHash: string;
  readonly mutedUntil?: string;
  readonly blocked: boolean;
  /** The devices the person chose for this app's strong messages; absent means all of them. */
  readonly devices?: readonly string[];
}

/** The Binding aggregate's state: no consent yet, active, or revoked by the person. */
export type BindingState =
  { readonly status: 'empty' } | (BindingFacts & { readonly status: 'active' | 'revoked' });

type ExistingBinding = Exclude<BindingState, { status: 'empty' }>;
type Decision = E.Either<DomainError, readonly BindingEvent[]>;

/** The stream that holds one binding's events. */
export const bindingStreamName = (bindingId: string): string => `binding-${bindingId}`;

const initialState = (): BindingState => ({ status: 'empty' });

const withoutMute = (state: ExistingBinding): ExistingBinding => {
  const { mutedUntil: _mutedUntil, ...rest } = state;
  return rest;
};

const withAllDevices = (state: ExistingBinding): ExistingBinding => {
  const { devices: _devices, ...rest } = state;
  return rest;
};

const sameDevices = (
  chosen: readonly string[] | undefined,
  asked: readonly string[] | null,
): boolean =>
  chosen === undefined || asked === null
    ? chosen === undefined && asked === null
    : chosen.length === asked.length && chosen.every((id, index) => asked[index] === id);

const evolve = (state: BindingState, event: BindingEvent): BindingState => {
  if (event.type === 'BindingAuthorized') {
    return { status: 'active', ...event.data, blocked: false };
  }
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'BindingReauthorized':
      // A fresh consent: the person's choice now replaces any earlier block or mute.
      return {
        ...withAllDevices(withoutMute(state)),
        status: 'active',
        ...event.data,
        blocked: false,
      };
    case 'BindingLevelChanged':
      return { ...state, level: event.data.level };
    case 'BindingMuted':
      return { ...state, mutedUntil: event.data.until };
    case 'BindingUnmuted':
      return withoutMute(state);
    case 'BindingBlocked':
      return { ...state, blocked: true };
    case 'BindingUnblocked':
      return { ...state, blocked: false };
    case 'BindingDevicesChosen':
      return event.data.devices === null
        ? withAllDevices(state)
        : { ...state, devices: event.data.devices };
    case 'BindingRevoked':
      return { ...state, status: 'revoked' };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

const authorizeBinding = (command: AuthorizeBinding, state: BindingState): Decision => {
  const { bindingId, appId, recipientId, openid, level, keyHash } = command.data;
  if (state.status === 'empty') {
    return E.right([
      {
        type: 'BindingAuthorized',
        data: { bindingId, appId, recipientId, openid, level, keyHash },
      },
    ]);
  }
  if (state.appId !== appId || state.openid !== openid) {
    // The caller derives the id from (appId, openid); a mismatch is a collision, never a consent.
    return E.left(
      domainError('illegal_state', `binding ${bindingId} belongs to another app or openid`, {
        bindingId,
      }),
    );
  }
  // An openid is the app's name for one of its users, and anyone can open a consent page with
  // any openid: once a person has bound it, nobody else may take it over, not even after they
  // unbound it (the app's messages for that user would then reach a stranger).
  if (state.recipientId !== recipientId) {
    return E.left(
      domainError('illegal_state', 'this openid is bound to another person', { bindingId }),
    );
  }
  if (state.keyHash === keyHash) {
    // The same key again is a retry of the consent that issued it, if nothing else differs.
    // Otherwise it would bring a key back to life, and a re-authorization must issue a new one.
    return state.status === 'active' && state.level === level
      ? E.right([])
      : E.left(domainError('illegal_state', 're-authorization needs a new key', { bindingId }));
  }
  return E.right([
    { type: 'BindingReauthorized', data: { bindingId, recipientId, level, keyHash } },
  ]);
};

const decideOwned = (
  command: Exclude<BindingCommand, AuthorizeBinding>,
  state: ExistingBinding,
): Decision => {
  const { bindingId } = command.data;
  if (command.type === 'RevokeBinding') {
    return state.status === 'revoked'
      ? E.right([])
      : E.right([{ type: 'BindingRevoked', data: { bindingId } }]);
  }
  if (state.status === 'revoked') {
    return E.left(
      domainError('binding_revoked', `binding ${bindingId} was revoked`, { bindingId }),
    );
  }
  switch (command.type) {
    case 'ChangeBindingLevel':
      return state.level === command.data.level
        ? E.right([])
        : E.right([
            { type: 'BindingLevelChanged', data: { bindingId, level: command.data.level } },
          ]);
    case 'MuteBinding': {
      const { until } = command.data;
      if (!isAfter(until, command.metadata.now)) {
        return E.left(domainError('validation_failed', 'a mute must end in the future', { until }));
      }
      // Any other end time is honoured, earlier or later: it is the person's own choice.
      return state.mutedUntil !== undefined && isSameInstant(until, state.mutedUntil)
        ? E.right([])
        : E.right([{ type: 'BindingMuted', data: { bindingId, until } }]);
    }
    case 'UnmuteBinding':
      // A lapsed mute is still cleared, so read models stop showing a stale end time.
      return state.mutedUntil === undefined
        ? E.right([])
        : E.right([{ type: 'BindingUnmuted', data: { bindingId } }]);
    case 'BlockBinding':
      return state.blocked
        ? E.right([])
        : E.right([{ type: 'BindingBlocked', data: { bindingId } }]);
    case 'UnblockBinding':
      return state.blocked
        ? E.right([{ type: 'BindingUnblocked', data: { bindingId } }])
        : E.right([]);
    case 'ChooseBindingDevices': {
      const { devices } = command.data;
      if (devices !== null && new Set(devices).size !== devices.length) {
        return E.left(
          domainError('validation_failed', 'each device may be named once', { devices }),
        );
      }
      return sameDevices(state.devices, devices)
        ? E.right([])
        : E.right([{ type: 'BindingDevicesChosen', data: { bindingId, devices } }]);
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

const decide = (command: BindingCommand, state: BindingState): Decision => {
  if (command.type === 'AuthorizeBinding') return authorizeBinding(command, state);
  const { bindingId, recipientId } = command.data;
  // Someone else's binding answers exactly like a missing one (docs/api.md), so ids leak nothing.
  if (state.status === 'empty' || state.recipientId !== recipientId) {
    return E.left(domainError('not_found', `binding ${bindingId} does not exist`, { bindingId }));
  }
  return decideOwned(command, state);
};

/**
 * The Binding aggregate: one person's consent for one app under one openid, with the level,
 * mute and block settings that decide how the app's messages reach them.
 */
export const bindingDecider: Decider<BindingCommand, BindingEvent, BindingState> = {
  initialState,
  evolve,
  decide,
};
