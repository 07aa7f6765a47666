import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import { isAfter } from '../shared/time.js';
import type { RecipientCommand } from './recipientCommands.js';
import type { RecipientEvent } from './recipientEvents.js';
import {
  deviceById,
  evolveDevices,
  MAX_DEVICES_PER_PERSON,
  type StoredDevice,
} from './recipientDevices.js';
import type {
  AddDevice,
  MarkDeviceBroken,
  SetPreferences,
  UpdateDevice,
} from './recipientCommands.js';
import {
  DEFAULT_PREFERENCES,
  preferenceProblems,
  samePreferences,
  type Preferences,
} from './recipientPreferences.js';

/**
 * The Recipient aggregate's state: no account yet, an account with its devices, or an account
 * that was deleted (its personal data erased; docs/audit.md, "Erasure").
 */
export type RecipientState =
  | { readonly status: 'empty' }
  | { readonly status: 'erased'; readonly recipientId: string }
  | {
      readonly status: 'active';
      readonly recipientId: string;
      readonly username: string;
      readonly passwordHash: string;
      /** The person's devices in the order they were added (the legacy Bark device among them). */
      readonly devices: readonly StoredDevice[];
      /** Open sessions: hash → expiry (ISO time). */
      readonly sessions: Readonly<Record<string, string>>;
      /** What the person chose (language, time zone, quiet hours, digest). */
      readonly preferences: Preferences;
    };

type Decision = E.Either<DomainError, readonly RecipientEvent[]>;

/** The stream that holds one person's account events. */
export const recipientStreamName = (recipientId: string): string => `recipient-${recipientId}`;

const initialState = (): RecipientState => ({ status: 'empty' });

const evolve = (state: RecipientState, event: RecipientEvent): RecipientState => {
  if (event.type === 'RecipientRegistered')
    return {
      status: 'active',
      ...event.data,
      devices: [],
      sessions: {},
      preferences: DEFAULT_PREFERENCES,
    };
  if (event.type === 'RecipientErased') {
    return { status: 'erased', recipientId: event.data.recipientId };
  }
  if (state.status !== 'active') return state;
  switch (event.type) {
    case 'RecipientBarkDeviceSet':
    case 'RecipientBarkDeviceRemoved':
    case 'RecipientBarkDeviceBroken':
    case 'RecipientDeviceAdded':
    case 'RecipientDeviceUpdated':
    case 'RecipientDeviceRemoved':
    case 'RecipientDeviceBroken':
      return { ...state, devices: evolveDevices(state.devices, event) };
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
    case 'RecipientPreferencesSet':
      return { ...state, preferences: event.data.preferences };
    case 'RecipientDataErased':
      return state;
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
    if (state.status === 'erased') {
      return E.left(
        domainError('already_exists', `recipient ${recipientId} existed and was deleted`, {
          recipientId,
        }),
      );
    }
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
  if (state.status === 'erased') return decideErased(command, recipientId);
  switch (command.type) {
    case 'AddDevice':
      return addDevice(command, state.devices);
    case 'UpdateDevice':
      return updateDevice(command, state.devices);
    case 'RemoveDevice': {
      const { deviceId } = command.data;
      if (deviceById(state.devices, deviceId) === undefined) return E.left(noSuchDevice(deviceId));
      const removed: RecipientEvent = {
        type: 'RecipientDeviceRemoved',
        data: { recipientId, deviceId },
      };
      // A digest to the device goes with it: the preferences never name a device that is gone.
      const { preferences } = state;
      return E.right(
        preferences.digest?.deviceId === deviceId
          ? [
              removed,
              {
                type: 'RecipientPreferencesSet',
                data: { recipientId, preferences: { ...preferences, digest: null } },
              },
            ]
          : [removed],
      );
    }
    case 'MarkDeviceBroken':
      return E.right(deviceBroken(command, state.devices));
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
    case 'SetPreferences':
      return setPreferences(command, state.devices, state.preferences);
    case 'EraseRecipient':
      return E.right([{ type: 'RecipientErased', data: command.data }]);
    case 'RecordDataErased':
      return E.left(
        domainError('illegal_state', `recipient ${recipientId} has not been deleted`, {
          recipientId,
        }),
      );
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

/**
 * A deleted account takes no command but the erasure's own: deleting it again changes nothing,
 * and the erasure processor records what it erases.
 */
const decideErased = (command: RecipientCommand, recipientId: string): Decision => {
  if (command.type === 'EraseRecipient') return E.right([]);
  if (command.type === 'RecordDataErased') {
    return command.data.events.length === 0
      ? E.right([])
      : E.right([{ type: 'RecipientDataErased', data: command.data }]);
  }
  return E.left(domainError('not_found', `recipient ${recipientId} was deleted`, { recipientId }));
};

const noSuchDevice = (deviceId: string): DomainError =>
  domainError('not_found', `no device ${deviceId}`, { deviceId });

const addDevice = (command: AddDevice, devices: readonly StoredDevice[]): Decision => {
  const { deviceId, fingerprint, kind, name } = command.data;
  const existing = deviceById(devices, deviceId);
  if (existing !== undefined) {
    // The caller makes a new id per device: the same id again is a retry of this very add.
    return existing.kind === kind && existing.name === name && existing.fingerprint === fingerprint
      ? E.right([])
      : E.left(domainError('already_exists', `device ${deviceId} exists already`, { deviceId }));
  }
  if (devices.length >= MAX_DEVICES_PER_PERSON) {
    return E.left(
      domainError('illegal_state', `a person may have at most ${MAX_DEVICES_PER_PERSON} devices`, {
        limit: MAX_DEVICES_PER_PERSON,
      }),
    );
  }
  return E.right([
    { type: 'RecipientDeviceAdded', data: { ...command.data, addedAt: command.metadata.now } },
  ]);
};

const updateDevice = (command: UpdateDevice, devices: readonly StoredDevice[]): Decision => {
  const { deviceId, name, fingerprint } = command.data;
  const existing = deviceById(devices, deviceId);
  if (existing === undefined) return E.left(noSuchDevice(deviceId));
  // The same device saved again changes nothing, unless it was broken: saving a broken device is
  // how the person says it works now.
  if (
    existing.fingerprint === fingerprint &&
    existing.name === name &&
    existing.broken === undefined
  )
    return E.right([]);
  return E.right([{ type: 'RecipientDeviceUpdated', data: command.data }]);
};

/**
 * Saves the preferences when every field can be saved and something changed; the same ones again
 * write nothing. A digest must go to one of the person's own devices.
 */
const setPreferences = (
  command: SetPreferences,
  devices: readonly StoredDevice[],
  current: Preferences,
): Decision => {
  const { recipientId, preferences } = command.data;
  const problems = preferenceProblems(
    preferences,
    devices.map(({ deviceId }) => deviceId),
  );
  if (problems.length > 0) {
    return E.left(
      domainError(
        'validation_failed',
        problems.map(({ path, message }) => `${path} ${message}`).join('; '),
        { errors: problems },
      ),
    );
  }
  if (samePreferences(preferences, current)) return E.right([]);
  return E.right([{ type: 'RecipientPreferencesSet', data: { recipientId, preferences } }]);
};

/**
 * Marks the refused device broken, only if it is still the configuration the refused push used
 * (a device saved differently since, or removed, is left alone) and is not marked already.
 */
const deviceBroken = (
  command: MarkDeviceBroken,
  devices: readonly StoredDevice[],
): readonly RecipientEvent[] => {
  const { recipientId, deviceId, fingerprint, reason } = command.data;
  const device = deviceById(devices, deviceId);
  return device === undefined || device.fingerprint !== fingerprint || device.broken !== undefined
    ? []
    : [{ type: 'RecipientDeviceBroken', data: { recipientId, deviceId, reason } }];
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
