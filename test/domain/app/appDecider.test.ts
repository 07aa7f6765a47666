import { expect } from 'chai';
import type { AppCommand } from '../../../domain/app/appCommands.js';
import { appDecider, appStreamName } from '../../../domain/app/appDecider.js';
import type { AppEvent } from '../../../domain/app/appEvents.js';
import { AppEventCodec, appEventTypes } from '../../../domain/app/appEvents.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';
import { defaultPenaltyLadder } from '../../../domain/reputation/penaltyLadder.js';
import { expectEventsRoundTrip, spec } from '../deciderSpecification.js';

const now = '2025-03-01T12:00:00.000Z';
const metadata = { now };
const appId = 'app-1';

const registered: AppEvent = {
  type: 'AppRegistered',
  data: {
    appId,
    name: 'Work orders',
    redirectUris: ['https://orders.example/callback'],
    secretHash: 'hash-1',
    callbackUrl: 'https://orders.example/hook',
  },
};
const suspended: AppEvent = {
  type: 'AppSuspended',
  data: {
    appId,
    until: '2025-03-08T12:00:00.000Z',
    reason: 'score_below_threshold',
    complaintIds: ['c-1'],
  },
};
const banned: AppEvent = {
  type: 'AppBanned',
  data: { appId, reason: 'repeated_suspensions', complaintIds: ['c-2'] },
};
const penalized: AppEvent = {
  type: 'AppPenalized',
  data: {
    appId,
    points: 30,
    scoreAfter: 70,
    complaintIds: ['c-1'],
    reason: 'complaint upheld: major',
  },
};

const registerApp: AppCommand = {
  type: 'RegisterApp',
  data: {
    appId,
    name: 'Work orders',
    redirectUris: ['https://orders.example/callback'],
    secretHash: 'hash-1',
    callbackUrl: 'https://orders.example/hook',
  },
  metadata,
};
const suspendUntil = (until: string): AppCommand => ({
  type: 'SuspendApp',
  data: { appId, until, reason: 'complaint_surge', complaintIds: [] },
  metadata,
});

describe('appDecider', () => {
  const app = spec(appDecider);

  it('names the stream app-<appId>', () => {
    expect(appStreamName('abc')).to.equal('app-abc');
  });

  describe('the callback and the compatible ingress', () => {
    const callbackSet: AppEvent = {
      type: 'AppCallbackSet',
      data: {
        appId,
        url: 'https://orders.example/hook',
        events: ['binding.revoked'],
        secret: 'sealed-1',
        since: now,
      },
    };
    const setCallback = (rotate: boolean, secret: string) => ({
      type: 'SetAppCallback' as const,
      data: {
        appId,
        url: 'https://orders.example/hook',
        events: ['binding.revoked' as const],
        secret,
        rotate,
        rotationWindowHours: 24,
      },
      metadata,
    });

    it('takes the fresh secret the first time, and keeps it when nothing changed', () => {
      app.given([registered]).when(setCallback(false, 'sealed-1')).then([callbackSet]);
      app.given([registered, callbackSet]).when(setCallback(false, 'sealed-2')).thenNothing();
    });

    it('on a rotation keeps the secret before signing for the window', () => {
      app
        .given([registered, callbackSet])
        .when(setCallback(true, 'sealed-2'))
        .then([
          {
            type: 'AppCallbackSet',
            data: {
              ...callbackSet.data,
              secret: 'sealed-2',
              previousSecret: 'sealed-1',
              previousSecretUntil: '2025-03-02T12:00:00.000Z',
            },
          },
        ]);
    });

    it('removes a callback once, and switches the ingress only when it changes', () => {
      const removal = { type: 'RemoveAppCallback' as const, data: { appId }, metadata };
      app
        .given([registered, callbackSet])
        .when(removal)
        .then([{ type: 'AppCallbackRemoved', data: { appId } }]);
      app
        .given([registered, callbackSet, { type: 'AppCallbackRemoved', data: { appId } }])
        .when(removal)
        .thenNothing();
      const ingress = {
        type: 'SetAppCompatIngress' as const,
        data: { appId, enabled: true },
        metadata,
      };
      app
        .given([registered])
        .when(ingress)
        .then([{ type: 'AppCompatIngressChanged', data: { appId, enabled: true } }]);
      app
        .given([registered, { type: 'AppCompatIngressChanged', data: { appId, enabled: true } }])
        .when(ingress)
        .thenNothing();
    });
  });

  describe('RegisterApp', () => {
    it('registers a new app', () => {
      app.given([]).when(registerApp).then([registered]);
    });
    it('leaves out an absent callbackUrl', () => {
      const data = {
        appId,
        name: 'Work orders',
        redirectUris: ['https://orders.example/callback'],
        secretHash: 'hash-1',
      };
      app
        .given([])
        .when({ type: 'RegisterApp', data, metadata })
        .then([{ type: 'AppRegistered', data }]);
    });
    it('ignores an identical repeat', () => {
      app.given([registered]).when(registerApp).thenNothing();
    });
    it('refuses another registration under the same id', () => {
      app
        .given([registered])
        .when({ ...registerApp, data: { ...registerApp.data, name: 'Other' } })
        .thenError('already_exists', { appId });
    });
  });

  describe('RotateAppSecret', () => {
    const rotate: AppCommand = {
      type: 'RotateAppSecret',
      data: { appId, secretHash: 'hash-2' },
      metadata,
    };
    it('replaces the secret hash', () => {
      app
        .given([registered])
        .when(rotate)
        .then([{ type: 'AppSecretRotated', data: { appId, secretHash: 'hash-2' } }]);
    });
    it('ignores a repeat with the current hash', () => {
      app
        .given([registered, { type: 'AppSecretRotated', data: { appId, secretHash: 'hash-2' } }])
        .when(rotate)
        .thenNothing();
    });
    it('refuses an unknown app', () => {
      app.given([]).when(rotate).thenError('not_found', { appId });
    });
  });

  describe('ChangeAppRedirectUris', () => {
    const uris = ['https://orders.example/a', 'https://orders.example/b'];
    const change: AppCommand = {
      type: 'ChangeAppRedirectUris',
      data: { appId, redirectUris: uris },
      metadata,
    };
    it('replaces the redirect URIs', () => {
      app
        .given([registered])
        .when(change)
        .then([{ type: 'AppRedirectUrisChanged', data: { appId, redirectUris: uris } }]);
    });
    it('ignores the same list', () => {
      app
        .given([
          registered,
          { type: 'AppRedirectUrisChanged', data: { appId, redirectUris: uris } },
        ])
        .when(change)
        .thenNothing();
    });
    it('refuses an unknown app', () => {
      app.given([]).when(change).thenError('not_found');
    });
  });

  describe('PenalizeApp', () => {
    const penalize = (complaintIds: string[], points = 30): AppCommand => ({
      type: 'PenalizeApp',
      data: { appId, points, complaintIds, reason: 'complaint upheld: major' },
      metadata,
    });
    it('takes points off the starting score of 100', () => {
      app
        .given([registered])
        .when(penalize(['c-1']))
        .then([penalized]);
    });
    it('takes points off the current score', () => {
      app
        .given([registered, penalized])
        .when(penalize(['c-2'], 5))
        .then([
          {
            type: 'AppPenalized',
            data: {
              appId,
              points: 5,
              scoreAfter: 65,
              complaintIds: ['c-2'],
              reason: 'complaint upheld: major',
            },
          },
        ]);
    });
    it('never charges the same complaints twice', () => {
      app
        .given([registered, penalized])
        .when(penalize(['c-1']))
        .thenNothing();
    });
    it('refuses a batch that was partly charged already', () => {
      app
        .given([registered, penalized])
        .when(penalize(['c-1', 'c-3']))
        .thenError('illegal_state', { complaintIds: ['c-1'] });
    });
    it('still penalizes a banned app', () => {
      app
        .given([registered, banned])
        .when(penalize(['c-9'], 10))
        .then([
          {
            type: 'AppPenalized',
            data: {
              appId,
              points: 10,
              scoreAfter: 90,
              complaintIds: ['c-9'],
              reason: 'complaint upheld: major',
            },
          },
        ]);
    });
    it('refuses an unknown app', () => {
      app
        .given([])
        .when(penalize(['c-1']))
        .thenError('not_found');
    });
  });

  describe('SuspendApp', () => {
    it('suspends an active app', () => {
      app
        .given([registered])
        .when(suspendUntil('2025-03-08T12:00:00.000Z'))
        .then([
          {
            type: 'AppSuspended',
            data: {
              appId,
              until: '2025-03-08T12:00:00.000Z',
              reason: 'complaint_surge',
              complaintIds: [],
            },
          },
        ]);
    });
    it('extends a suspension to a later time', () => {
      app
        .given([registered, suspended])
        .when(suspendUntil('2025-03-15T12:00:00.000Z'))
        .then([
          {
            type: 'AppSuspended',
            data: {
              appId,
              until: '2025-03-15T12:00:00.000Z',
              reason: 'complaint_surge',
              complaintIds: [],
            },
          },
        ]);
    });
    it('ignores a suspension that ends no later than the current one', () => {
      app.given([registered, suspended]).when(suspendUntil('2025-03-08T12:00:00Z')).thenNothing();
    });
    it('refuses to suspend a banned app', () => {
      app
        .given([registered, banned])
        .when(suspendUntil('2025-03-08T12:00:00.000Z'))
        .thenError('illegal_state');
    });
    it('refuses a suspension that has already ended', () => {
      app.given([registered]).when(suspendUntil(now)).thenError('validation_failed');
    });
    it('refuses an unknown app', () => {
      app.given([]).when(suspendUntil('2025-03-08T12:00:00.000Z')).thenError('not_found');
    });
  });

  describe('LiftAppSuspension', () => {
    const lift = (
      reason: 'expired' | 'reinstated',
      at: string,
      scoreAfter?: number,
    ): AppCommand => ({
      type: 'LiftAppSuspension',
      data: { appId, reason, ...(scoreAfter === undefined ? {} : { scoreAfter }) },
      metadata: { now: at },
    });
    it('lifts an expired suspension, keeping the score', () => {
      app
        .given([registered, penalized, suspended])
        .when(lift('expired', '2025-03-08T12:00:00.000Z'))
        .then([
          { type: 'AppSuspensionLifted', data: { appId, reason: 'expired', scoreAfter: 70 } },
        ]);
    });
    it('refuses to expire a suspension before its end', () => {
      app
        .given([registered, suspended])
        .when(lift('expired', '2025-03-08T11:59:59.999Z'))
        .thenError('illegal_state', { suspendedUntil: '2025-03-08T12:00:00.000Z' });
    });
    it('lets an operator lift early with a restored score', () => {
      app
        .given([registered, penalized, suspended])
        .when(lift('reinstated', now, 80))
        .then([
          { type: 'AppSuspensionLifted', data: { appId, reason: 'reinstated', scoreAfter: 80 } },
        ]);
    });
    it('ignores lifting a suspension that is not there', () => {
      app.given([registered]).when(lift('expired', now)).thenNothing();
    });
    it('ignores lifting a suspension twice', () => {
      app
        .given([
          registered,
          suspended,
          { type: 'AppSuspensionLifted', data: { appId, reason: 'reinstated', scoreAfter: 100 } },
        ])
        .when(lift('reinstated', now))
        .thenNothing();
    });
    it('refuses an unknown app', () => {
      app.given([]).when(lift('expired', now)).thenError('not_found');
    });
  });

  describe('BanApp', () => {
    const ban: AppCommand = {
      type: 'BanApp',
      data: { appId, reason: 'repeated_suspensions', complaintIds: ['c-2'] },
      metadata,
    };
    it('bans an active app', () => {
      app.given([registered]).when(ban).then([banned]);
    });
    it('bans a suspended app', () => {
      app.given([registered, suspended]).when(ban).then([banned]);
    });
    it('ignores banning a banned app', () => {
      app.given([registered, banned]).when(ban).thenNothing();
    });
    it('refuses an unknown app', () => {
      app.given([]).when(ban).thenError('not_found');
    });
  });

  describe('ReinstateApp', () => {
    const reinstate = (data: { note?: string; scoreAfter?: number } = {}): AppCommand => ({
      type: 'ReinstateApp',
      data: { appId, ...data },
      metadata,
    });
    it('reinstates a banned app with a note and a new score', () => {
      app
        .given([registered, banned])
        .when(reinstate({ note: 'appeal accepted', scoreAfter: 60 }))
        .then([
          { type: 'AppReinstated', data: { appId, scoreAfter: 60, note: 'appeal accepted' } },
        ]);
    });
    it('reinstates a suspended app, keeping the score', () => {
      app
        .given([registered, penalized, suspended])
        .when(reinstate())
        .then([{ type: 'AppReinstated', data: { appId, scoreAfter: 70 } }]);
    });
    it('ignores reinstating an active app', () => {
      app.given([registered]).when(reinstate()).thenNothing();
    });
    it('lets a reinstated app be suspended again', () => {
      app
        .given([registered, banned, { type: 'AppReinstated', data: { appId, scoreAfter: 100 } }])
        .when(suspendUntil('2025-03-02T00:00:00.000Z'))
        .then([
          {
            type: 'AppSuspended',
            data: {
              appId,
              until: '2025-03-02T00:00:00.000Z',
              reason: 'complaint_surge',
              complaintIds: [],
            },
          },
        ]);
    });
    it('refuses an unknown app', () => {
      app.given([]).when(reinstate()).thenError('not_found');
    });
  });

  describe('the built-in app of test pushes', () => {
    const system = SYSTEM_APP_ID;
    const systemRegistered: AppEvent = {
      type: 'AppRegistered',
      data: {
        appId: system,
        name: 'Tidings',
        redirectUris: ['http://localhost:8080/'],
        secretHash: 'never-told',
      },
    };
    const systemSuspended: AppEvent = {
      type: 'AppSuspended',
      data: {
        appId: system,
        until: '2025-03-08T12:00:00.000Z',
        reason: 'complaint_surge',
        complaintIds: [],
      },
    };
    const refused: readonly AppCommand[] = [
      {
        type: 'RotateAppSecret',
        data: { appId: system, secretHash: 'known-to-someone' },
        metadata,
      },
      {
        type: 'ChangeAppRedirectUris',
        data: { appId: system, redirectUris: ['https://evil.example/'] },
        metadata,
      },
      {
        type: 'PenalizeApp',
        data: { appId: system, points: 30, complaintIds: ['c-9'], reason: 'upheld' },
        metadata,
      },
      {
        type: 'ApplyPenalty',
        data: {
          appId: system,
          complaintId: 'c-9',
          severity: 'severe',
          ladder: defaultPenaltyLadder,
        },
        metadata,
      },
      {
        type: 'SuspendApp',
        data: {
          appId: system,
          until: '2025-03-08T12:00:00.000Z',
          reason: 'complaint_surge',
          complaintIds: [],
        },
        metadata,
      },
      { type: 'BanApp', data: { appId: system, reason: 'operator', complaintIds: [] }, metadata },
    ];
    for (const command of refused) {
      it(`refuses ${command.type} with forbidden, naming it`, () => {
        app.given([systemRegistered]).when(command).thenError('forbidden', { appId: system });
      });
    }
    it('refuses them on a history in which an older server rotated its secret', () => {
      const rotated: AppEvent = {
        type: 'AppSecretRotated',
        data: { appId: system, secretHash: 'known-to-someone' },
      };
      for (const command of refused) {
        app.given([systemRegistered, rotated]).when(command).thenError('forbidden');
      }
    });
    it('is registered like any app, and a retry of it is harmless', () => {
      const register: AppCommand = { type: 'RegisterApp', data: systemRegistered.data, metadata };
      app.given([]).when(register).then([systemRegistered]);
      app.given([systemRegistered]).when(register).thenNothing();
    });
    it('can be reinstated, or its suspension lifted, where an older server let it be suspended', () => {
      app
        .given([systemRegistered, systemSuspended])
        .when({ type: 'ReinstateApp', data: { appId: system }, metadata })
        .then([{ type: 'AppReinstated', data: { appId: system, scoreAfter: 100 } }]);
      app
        .given([systemRegistered, systemSuspended])
        .when({
          type: 'LiftAppSuspension',
          data: { appId: system, reason: 'reinstated' },
          metadata,
        })
        .then([
          {
            type: 'AppSuspensionLifted',
            data: { appId: system, reason: 'reinstated', scoreAfter: 100 },
          },
        ]);
    });
  });

  describe('state', () => {
    it('counts separate suspensions but not extensions', () => {
      const later: AppEvent = {
        ...suspended,
        data: { ...suspended.data, until: '2025-04-01T00:00:00.000Z' },
      };
      const lifted: AppEvent = {
        type: 'AppSuspensionLifted',
        data: { appId, reason: 'expired', scoreAfter: 100 },
      };
      let state = appDecider.initialState();
      for (const event of [registered, suspended, later, lifted, suspended]) {
        state = appDecider.evolve(state, event);
      }
      expect(state).to.include({ status: 'suspended', suspensionCount: 2 });
    });
  });

  describe('events', () => {
    it('round-trip through AppEventCodec, and a malformed one is refused', () => {
      expectEventsRoundTrip(AppEventCodec, appEventTypes, app.recorded, {
        type: 'AppSuspended',
        data: { appId, until: 'next tuesday', reason: 'complaint_surge', complaintIds: [] },
      });
    });
  });
});
