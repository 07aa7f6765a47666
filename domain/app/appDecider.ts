import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import { sameStrings } from '../shared/equality.js';
import { addDays, addHours, isAfter, isBefore } from '../shared/time.js';
import { callbackEventTypes } from '../callback/callbackEventTypes.js';
import { forbiddenForSystemApp, isSystemApp } from './systemApp.js';
import type {
  ApplyPenalty,
  BanApp,
  ChangeAppRedirectUris,
  LiftAppSuspension,
  PenalizeApp,
  RegisterApp,
  ReinstateApp,
  RotateAppSecret,
  SetAppCallback,
  SetAppCompatIngress,
  SuspendApp,
  AppCommand,
} from './appCommands.js';
import type { AppCallbackSet, AppEvent, AppSuspended } from './appEvents.js';

/** The score every app starts with; penalties take points off it. */
export const INITIAL_APP_SCORE = 100;

/** The app's callback as it is registered: where, for which types, and its sealed secrets. */
export type AppCallback = Omit<AppCallbackSet['data'], 'appId'>;

/** What is known about a registered app, whatever its standing. */
export interface AppFacts {
  readonly appId: string;
  readonly name: string;
  readonly redirectUris: readonly string[];
  /** The callback's URL; an app registered by an older server may have this and no `callback`. */
  readonly callbackUrl?: string;
  /** The callback as set by the app, with its signing secret (docs/api.md, "App callbacks"). */
  readonly callback?: AppCallback;
  /** Whether its binding keys work as Bark device keys and ntfy topics. */
  readonly compatIngress: boolean;
  readonly secretHash: string;
  readonly score: number;
  /** How many separate suspensions the app has had; extensions do not count. */
  readonly suspensionCount: number;
  /**
   * Suspensions the app earned by its score (the penalty ladder's strikes): a surge or an
   * operator suspending it pending review is not one; the ladder bans at its `maxSuspensions`-th.
   */
  readonly strikes: number;
  /** Complaints already charged, so a redelivered penalty is not charged twice. */
  readonly penalizedComplaintIds: readonly string[];
}

/** The App aggregate's state: not registered yet, or registered in one of three standings. */
export type AppState =
  | { readonly status: 'empty' }
  | (AppFacts & { readonly status: 'active' })
  | (AppFacts & {
      readonly status: 'suspended';
      readonly suspendedUntil: string;
      /** Why the current suspension (or its latest extension) was imposed. */
      readonly suspensionReason: AppSuspended['data']['reason'];
    })
  | (AppFacts & { readonly status: 'banned' });

type RegisteredApp = Exclude<AppState, { status: 'empty' }>;
type Decision = E.Either<DomainError, readonly AppEvent[]>;

/** The stream that holds one app's events. */
export const appStreamName = (appId: string): string => `app-${appId}`;

const initialState = (): AppState => ({ status: 'empty' });

/** Drops the suspension's fields when an app leaves the suspended standing. */
const factsOf = (state: RegisteredApp): AppFacts => {
  if (state.status === 'suspended') {
    const { status: _status, suspendedUntil: _until, suspensionReason: _why, ...facts } = state;
    return facts;
  }
  const { status: _status, ...facts } = state;
  return facts;
};

const evolve = (state: AppState, event: AppEvent): AppState => {
  if (event.type === 'AppRegistered') {
    const { appId, name, redirectUris, secretHash, callbackUrl } = event.data;
    return {
      status: 'active',
      appId,
      name,
      redirectUris,
      secretHash,
      ...(callbackUrl === undefined ? {} : { callbackUrl }),
      score: INITIAL_APP_SCORE,
      suspensionCount: 0,
      strikes: 0,
      penalizedComplaintIds: [],
      compatIngress: false,
    };
  }
  // Only AppRegistered can start a stream; anything else on an empty state is ignored.
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'AppSecretRotated':
      return { ...state, secretHash: event.data.secretHash };
    case 'AppRedirectUrisChanged':
      return { ...state, redirectUris: event.data.redirectUris };
    case 'AppPenalized':
      return {
        ...state,
        score: event.data.scoreAfter,
        penalizedComplaintIds: [...state.penalizedComplaintIds, ...event.data.complaintIds],
      };
    case 'AppSuspended':
      return {
        ...factsOf(state),
        status: 'suspended',
        suspendedUntil: event.data.until,
        suspensionReason: event.data.reason,
        suspensionCount:
          state.status === 'suspended' ? state.suspensionCount : state.suspensionCount + 1,
        // A strike when the suspension is for the score and the app was not already suspended
        // for it (a new suspension, or one pending review turned into one for the score).
        strikes:
          event.data.reason === 'score_below_threshold' &&
          !(state.status === 'suspended' && state.suspensionReason === 'score_below_threshold')
            ? state.strikes + 1
            : state.strikes,
      };
    case 'AppSuspensionLifted':
    case 'AppReinstated':
      return { ...factsOf(state), status: 'active', score: event.data.scoreAfter };
    case 'AppBanned':
      return { ...factsOf(state), status: 'banned' };
    case 'AppCallbackSet': {
      const { appId: _appId, ...callback } = event.data;
      return { ...state, callback, callbackUrl: callback.url };
    }
    case 'AppCallbackRemoved': {
      const { callback: _callback, callbackUrl: _url, ...rest } = state;
      return rest;
    }
    case 'AppCompatIngressChanged':
      return { ...state, compatIngress: event.data.enabled };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

const notFound = (appId: string): Decision =>
  E.left(domainError('not_found', `app ${appId} does not exist`, { appId }));

const registerApp = (command: RegisterApp, state: AppState): Decision => {
  const { data } = command;
  if (state.status === 'empty') {
    // Copied field by field so nothing the command carried beyond its codec reaches the log.
    const { appId, name, redirectUris, secretHash, callbackUrl, callbackSecret } = data;
    const registered: AppEvent = {
      type: 'AppRegistered',
      data: {
        appId,
        name,
        redirectUris,
        secretHash,
        ...(callbackUrl === undefined ? {} : { callbackUrl }),
      },
    };
    // A callback named at creation is the callback a PUT would set, for every type.
    return E.right(
      callbackUrl === undefined || callbackSecret === undefined
        ? [registered]
        : [
            registered,
            {
              type: 'AppCallbackSet',
              data: {
                appId,
                url: callbackUrl,
                events: callbackEventTypes,
                secret: callbackSecret,
                since: command.metadata.now,
              },
            },
          ],
    );
  }
  // A retry of the very same registration is harmless; anything else is a clash of ids.
  const identical =
    state.name === data.name &&
    sameStrings(state.redirectUris, data.redirectUris) &&
    state.callbackUrl === data.callbackUrl &&
    state.secretHash === data.secretHash;
  return identical
    ? E.right([])
    : E.left(
        domainError('already_exists', `app ${data.appId} already exists`, { appId: data.appId }),
      );
};

const rotateAppSecret = (command: RotateAppSecret, state: RegisteredApp): Decision =>
  state.secretHash === command.data.secretHash
    ? E.right([])
    : E.right([
        {
          type: 'AppSecretRotated',
          data: { appId: state.appId, secretHash: command.data.secretHash },
        },
      ]);

const changeAppRedirectUris = (command: ChangeAppRedirectUris, state: RegisteredApp): Decision =>
  sameStrings(state.redirectUris, command.data.redirectUris)
    ? E.right([])
    : E.right([
        {
          type: 'AppRedirectUrisChanged',
          data: { appId: state.appId, redirectUris: command.data.redirectUris },
        },
      ]);

/**
 * Sets the callback. The fresh secret is taken when there was none or on a rotation, which keeps
 * the secret before signing beside it for the rotation window; otherwise the current secret (and
 * a rotation window still open) stays. The same URL and types without a rotation change nothing.
 */
const setAppCallback = (command: SetAppCallback, state: RegisteredApp): Decision => {
  const { appId, url, events, secret, rotate, rotationWindowHours } = command.data;
  const current = state.callback;
  if (
    current !== undefined &&
    !rotate &&
    current.url === url &&
    sameStrings(current.events, events)
  )
    return E.right([]);
  const kept =
    current === undefined || rotate
      ? {}
      : {
          ...(current.previousSecret === undefined
            ? {}
            : { previousSecret: current.previousSecret }),
          ...(current.previousSecretUntil === undefined
            ? {}
            : { previousSecretUntil: current.previousSecretUntil }),
        };
  const rotated =
    current !== undefined && rotate
      ? {
          previousSecret: current.secret,
          previousSecretUntil: addHours(command.metadata.now, rotationWindowHours),
        }
      : {};
  return E.right([
    {
      type: 'AppCallbackSet',
      data: {
        appId,
        url,
        events,
        secret: current === undefined || rotate ? secret : current.secret,
        since: current?.since ?? command.metadata.now,
        ...kept,
        ...rotated,
      },
    },
  ]);
};

const setAppCompatIngress = (command: SetAppCompatIngress, state: RegisteredApp): Decision =>
  state.compatIngress === command.data.enabled
    ? E.right([])
    : E.right([{ type: 'AppCompatIngressChanged', data: command.data }]);

const penalizeApp = (command: PenalizeApp, state: RegisteredApp): Decision => {
  const { appId, points, complaintIds, reason } = command.data;
  const charged = complaintIds.filter((id) => state.penalizedComplaintIds.includes(id));
  if (complaintIds.length > 0 && charged.length === complaintIds.length) return E.right([]);
  if (charged.length > 0) {
    // Part of the batch was paid for already: the caller's view is stale, so refuse outright
    // rather than guess which points belong to which complaint.
    return E.left(
      domainError('illegal_state', 'some complaints were already penalized', {
        complaintIds: charged,
      }),
    );
  }
  // Banned apps may still be penalized: the score keeps the record straight for an appeal.
  return E.right([
    {
      type: 'AppPenalized',
      data: { appId, points, scoreAfter: state.score - points, complaintIds, reason },
    },
  ]);
};

const suspendApp = (command: SuspendApp, state: RegisteredApp): Decision => {
  const { data, metadata } = command;
  if (state.status === 'banned') {
    return E.left(
      domainError('illegal_state', `app ${data.appId} is banned`, { appId: data.appId }),
    );
  }
  if (!isAfter(data.until, metadata.now)) {
    return E.left(
      domainError('validation_failed', 'a suspension must end in the future', {
        until: data.until,
      }),
    );
  }
  // A shorter suspension on top of a longer one changes nothing; a longer one extends it.
  if (state.status === 'suspended' && !isAfter(data.until, state.suspendedUntil))
    return E.right([]);
  const { appId, until, reason, complaintIds } = data;
  return E.right([{ type: 'AppSuspended', data: { appId, until, reason, complaintIds } }]);
};

/**
 * The score after a suspension ends or an operator reinstates: an explicit `scoreAfter`, else at
 * least `recoverTo` from the score as it is now (so a penalty that landed a moment earlier is
 * never overwritten by a stale read), else unchanged.
 */
const scoreAfterRecovery = (
  data: { readonly scoreAfter?: number; readonly recoverTo?: number },
  score: number,
): number =>
  data.scoreAfter ?? (data.recoverTo === undefined ? score : Math.max(score, data.recoverTo));

const liftAppSuspension = (command: LiftAppSuspension, state: RegisteredApp): Decision => {
  const { data, metadata } = command;
  // Nothing to lift (never suspended, already lifted, or superseded by a ban): a no-op, so the
  // scheduler's expiry job may run late or twice.
  if (state.status !== 'suspended') return E.right([]);
  if (data.reason === 'expired' && isBefore(metadata.now, state.suspendedUntil)) {
    return E.left(
      domainError('illegal_state', 'the suspension has not expired yet', {
        suspendedUntil: state.suspendedUntil,
      }),
    );
  }
  return E.right([
    {
      type: 'AppSuspensionLifted',
      data: {
        appId: data.appId,
        reason: data.reason,
        scoreAfter: scoreAfterRecovery(data, state.score),
      },
    },
  ]);
};

const banApp = (command: BanApp, state: RegisteredApp): Decision => {
  if (state.status === 'banned') return E.right([]);
  const { appId, reason, complaintIds } = command.data;
  return E.right([{ type: 'AppBanned', data: { appId, reason, complaintIds } }]);
};

const reinstateApp = (command: ReinstateApp, state: RegisteredApp): Decision => {
  if (state.status === 'active') return E.right([]);
  const { appId, note } = command.data;
  return E.right([
    {
      type: 'AppReinstated',
      data: {
        appId,
        scoreAfter: scoreAfterRecovery(command.data, state.score),
        ...(note === undefined ? {} : { note }),
      },
    },
  ]);
};

const applyPenalty = (command: ApplyPenalty, state: RegisteredApp): Decision => {
  const { appId, complaintId, severity, ladder } = command.data;
  // A redelivered uphold: this complaint has been paid for.
  if (state.penalizedComplaintIds.includes(complaintId)) return E.right([]);
  const points = ladder.points[severity];
  const scoreAfter = state.score - points;
  const complaintIds = [complaintId];
  const penalized: AppEvent = {
    type: 'AppPenalized',
    data: { appId, points, scoreAfter, complaintIds, reason: `${severity} complaint upheld` },
  };
  if (state.status === 'banned') return E.right([penalized]);
  if (scoreAfter < ladder.banBelow) {
    return E.right([
      penalized,
      { type: 'AppBanned', data: { appId, reason: 'score_below_threshold', complaintIds } },
    ]);
  }
  if (scoreAfter >= ladder.suspendBelow) return E.right([penalized]);
  // Within a suspension for the score, a further penalty only costs points.
  if (state.status === 'suspended' && state.suspensionReason === 'score_below_threshold') {
    return E.right([penalized]);
  }
  // A strike: one too many bans the app instead.
  if (state.strikes + 1 >= ladder.maxSuspensions) {
    return E.right([
      penalized,
      { type: 'AppBanned', data: { appId, reason: 'repeated_suspensions', complaintIds } },
    ]);
  }
  const until = addDays(command.metadata.now, ladder.suspensionDays);
  // Suspended pending review (a surge, an operator): the score's suspension replaces it, running
  // its full length from now, or at least as long as the one in place.
  const suspendedUntil =
    state.status === 'suspended' && isAfter(state.suspendedUntil, until)
      ? state.suspendedUntil
      : until;
  return E.right([
    penalized,
    {
      type: 'AppSuspended',
      data: { appId, until: suspendedUntil, reason: 'score_below_threshold', complaintIds },
    },
  ]);
};

/**
 * What the built-in app of test pushes refuses (domain/app/systemApp.ts): a new secret or
 * redirect URIs, and any loss of standing. Lifting a suspension and reinstating stay open, so an
 * operator can bring it back where an older server let complaints suspend or ban it.
 */
const systemAppRule = (command: Exclude<AppCommand, RegisterApp>): DomainError | undefined => {
  switch (command.type) {
    case 'RotateAppSecret':
      return forbiddenForSystemApp('its secret is never rotated, so no app credential acts as it');
    case 'ChangeAppRedirectUris':
      return forbiddenForSystemApp(
        'its redirect URIs are never changed, since nobody consents to it',
      );
    case 'PenalizeApp':
    case 'ApplyPenalty':
    case 'SuspendApp':
    case 'BanApp':
      return forbiddenForSystemApp(
        'it has no reputation to lose; each person turns it down in "My apps"',
      );
    case 'SetAppCallback':
    case 'RemoveAppCallback':
    case 'SetAppCompatIngress':
      return forbiddenForSystemApp('nobody acts as it, so it has no callback and no ingress');
    case 'LiftAppSuspension':
    case 'ReinstateApp':
      return undefined;
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

const decide = (command: AppCommand, state: AppState): Decision => {
  if (command.type === 'RegisterApp') return registerApp(command, state);
  if (state.status === 'empty') return notFound(command.data.appId);
  const refused = isSystemApp(state.appId) ? systemAppRule(command) : undefined;
  if (refused !== undefined) return E.left(refused);
  switch (command.type) {
    case 'RotateAppSecret':
      return rotateAppSecret(command, state);
    case 'ChangeAppRedirectUris':
      return changeAppRedirectUris(command, state);
    case 'PenalizeApp':
      return penalizeApp(command, state);
    case 'SuspendApp':
      return suspendApp(command, state);
    case 'LiftAppSuspension':
      return liftAppSuspension(command, state);
    case 'BanApp':
      return banApp(command, state);
    case 'ReinstateApp':
      return reinstateApp(command, state);
    case 'ApplyPenalty':
      return applyPenalty(command, state);
    case 'SetAppCallback':
      return setAppCallback(command, state);
    case 'RemoveAppCallback':
      return state.callback === undefined && state.callbackUrl === undefined
        ? E.right([])
        : E.right([{ type: 'AppCallbackRemoved', data: { appId: state.appId } }]);
    case 'SetAppCompatIngress':
      return setAppCompatIngress(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

/**
 * The App aggregate: registration, credentials and standing (score, suspension, ban). It records
 * what the penalty policy commands and refuses only what makes no sense; the thresholds live in
 * the policy, not here.
 */
export const appDecider: Decider<AppCommand, AppEvent, AppState> = { initialState, evolve, decide };
