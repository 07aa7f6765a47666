import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import { isAfter } from '../shared/time.js';
import type { RecipientCommand } from './recipientCommands.js';
import type { RecipientEvent } from './recipientEvents.js';
import { deviceBrokenEvents, type BarkDevice } from './recipientDevices.js';

/** The Recipient aggregate's state: no account yet, or an account with its devices. */
export type RecipientState =
  | { readonly status: 'empty' }
  | {
      readonly status: 'active';
      readonly recipientId: string;
      readonly username: string;
      readonly passwordHash: string;
      /** Stored as the events write it; routing reads it through `devicesOf` (any kind alike). */
      readonly bark?: BarkDevice;
      /** Open sessions: hash → expiry (ISO time). */
      readonly sessions: Readonly<Record<string, string>>;
    };

type Decision = E.Either<DomainError, readonly RecipientEvent[]>;

/** The stream that holds one person's account events. */
export const recipientStreamName = (recipientId: string): string => `recipient-${recipientId}`;

const initialState = (): RecipientState => ({ status: 'empty' });

const evolve = (state: RecipientState, event: RecipientEvent): RecipientState => {
  if (event.type === 'RecipientRegistered')
    return { status: 'active', ...event.data, sessions: {} };
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'RecipientBarkDeviceSet':
      return {
        ...state,
        bark: { serverUrl: event.data.serverUrl, deviceKey: event.data.deviceKey },
      };
    case 'RecipientBarkDeviceRemoved': {
      const { bark: _removed, ...rest } = state;
      return rest;
    }
    case 'RecipientBarkDeviceBroken':
      return state.bark === undefined
        ? state
        : { ...state, bark: { ...state.bark, broken: event.data.reason } };
    case 'RecipientSessionStarted': {
      // Sessions that expired before this one began can never be used again: forget them so
      // the state of a long-lived account does not grow with every login.
      const open = Object.entries(state.sessions).filter(([, expiresAt]) =>
        isAfter(expiresAt, event.data.startedAt),
      );
      return {
        ...state,
        sessions: Object.fromEntries([...open, [event.data.sessionHash, event.data.expiresAt]]),
      };
    }
    case 'RecipientSessionEnded':
      return {
        ...state,
        sessions: Object.fromEntries(
          Object.entries(state.sessions).filter(([hash]) => hash !== event.data.sessionHash),
        ),
      };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

const decide = (command: RecipientCommand, state: RecipientState): Decision => {
  const { recipientId } = command.data;
  if (command.type === 'RegisterRecipient') {
    const { username, passwordHash } = command.data;
    if (state.status === 'empty') {
      return E.right([
        { type: 'RecipientRegistered', data: { recipientId, username, passwordHash } },
      ]);
    }
    return state.username === username && state.passwordHash === passwordHash
      ? E.right([])
      : E.left(
          domainError('already_exists', `recipient ${recipientId} already exists`, { recipientId }),
        );
  }
  if (state.status === 'empty') {
    return E.left(
      domainError('not_found', `recipient ${recipientId} does not exist`, { recipientId }),
    );
  }
  switch (command.type) {
    case 'SetBarkDevice': {
      const { serverUrl, deviceKey } = command.data;
      // Setting a broken device again is how the person says it works now.
      if (
        state.bark?.serverUrl === serverUrl &&
        state.bark.deviceKey === deviceKey &&
        state.bark.broken === undefined
      )
        return E.right([]);
      return E.right([
        { type: 'RecipientBarkDeviceSet', data: { recipientId, serverUrl, deviceKey } },
      ]);
    }
    case 'RemoveBarkDevice':
      return state.bark === undefined
        ? E.right([])
        : E.right([{ type: 'RecipientBarkDeviceRemoved', data: { recipientId } }]);
    case 'MarkDeviceBroken': {
      const { kind, settings, reason } = command.data;
      return E.right(deviceBrokenEvents(state, recipientId, kind, settings, reason));
    }
    case 'StartSession': {
      const { sessionHash, expiresAt } = command.data;
      const startedAt = command.metadata.now;
      if (state.sessions[sessionHash] !== undefined) return E.right([]);
      if (!isAfter(expiresAt, startedAt)) {
        return E.left(
          domainError('validation_failed', 'a session must expire after it starts', { expiresAt }),
        );
      }
      return E.right([
        {
          type: 'RecipientSessionStarted',
          data: { recipientId, sessionHash, startedAt, expiresAt },
        },
      ]);
    }
    case 'EndSession': {
      const { sessionHash } = command.data;
      return state.sessions[sessionHash] === undefined
        ? E.right([])
        : E.right([{ type: 'RecipientSessionEnded', data: { recipientId, sessionHash } }]);
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

/**
 * The Recipient aggregate: a person's account and the devices their strong messages go to.
 * Bindings and inbox messages live in their own aggregates, so this stream stays short.
 */
export const recipientDecider: Decider<RecipientCommand, RecipientEvent, RecipientState> = {
  initialState,
  evolve,
  decide,
};
