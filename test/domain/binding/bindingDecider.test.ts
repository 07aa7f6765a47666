import { expect } from 'chai';
import type { BindingCommand } from '../../../domain/binding/bindingCommands.js';
import { bindingDecider, bindingStreamName } from '../../../domain/binding/bindingDecider.js';
import type { BindingEvent, BindingLevel } from '../../../domain/binding/bindingEvents.js';
import { BindingEventCodec, bindingEventTypes } from '../../../domain/binding/bindingEvents.js';
import { fold } from '../../../domain/shared/decider.js';
import { expectEventsRoundTrip, spec } from '../deciderSpecification.js';

const now = '2025-03-01T12:00:00.000Z';
const metadata = { now };
const bindingId = 'b-1';
const alice = 'r-alice';
const bob = 'r-bob';

const authorized: BindingEvent = {
  type: 'BindingAuthorized',
  data: {
    bindingId,
    appId: 'app-1',
    recipientId: alice,
    openid: 'o-1',
    level: 'strong',
    keyHash: 'k-1',
  },
};
const revoked: BindingEvent = { type: 'BindingRevoked', data: { bindingId } };
const blocked: BindingEvent = { type: 'BindingBlocked', data: { bindingId } };
const muted: BindingEvent = {
  type: 'BindingMuted',
  data: { bindingId, until: '2025-03-02T08:00:00.000Z' },
};

const authorize = (
  data: Partial<{
    recipientId: string;
    level: 'strong' | 'weak';
    keyHash: string;
    appId: string;
  }> = {},
): BindingCommand => ({
  type: 'AuthorizeBinding',
  data: {
    bindingId,
    appId: 'app-1',
    recipientId: alice,
    openid: 'o-1',
    level: 'strong',
    keyHash: 'k-1',
    ...data,
  },
  metadata,
});
const changeLevel = (level: BindingLevel, recipientId = alice): BindingCommand => ({
  type: 'ChangeBindingLevel',
  data: { bindingId, recipientId, level },
  metadata,
});
const mute = (until: string, recipientId = alice): BindingCommand => ({
  type: 'MuteBinding',
  data: { bindingId, recipientId, until },
  metadata,
});
const simple = (
  type: 'UnmuteBinding' | 'BlockBinding' | 'UnblockBinding' | 'RevokeBinding',
  recipientId = alice,
): BindingCommand => ({ type, data: { bindingId, recipientId }, metadata });

describe('bindingDecider', () => {
  const binding = spec(bindingDecider);

  it('names the stream binding-<bindingId>', () => {
    expect(bindingStreamName('x')).to.equal('binding-x');
  });

  describe('AuthorizeBinding', () => {
    it('authorizes a new binding', () => {
      binding.given([]).when(authorize()).then([authorized]);
    });
    it('ignores a retry of the same consent', () => {
      binding.given([authorized]).when(authorize()).thenNothing();
    });
    it('re-authorizes an active binding with a new key', () => {
      binding
        .given([authorized])
        .when(authorize({ keyHash: 'k-2', level: 'weak' }))
        .then([
          {
            type: 'BindingReauthorized',
            data: { bindingId, recipientId: alice, level: 'weak', keyHash: 'k-2' },
          },
        ]);
    });
    it('reactivates a revoked binding with a new key', () => {
      binding
        .given([authorized, revoked])
        .when(authorize({ keyHash: 'k-2' }))
        .then([
          {
            type: 'BindingReauthorized',
            data: { bindingId, recipientId: alice, level: 'strong', keyHash: 'k-2' },
          },
        ]);
    });
    it('refuses to hand a revoked binding to another person (the app would message a stranger)', () => {
      binding
        .given([authorized, revoked])
        .when(authorize({ recipientId: bob, keyHash: 'k-3' }))
        .thenError('illegal_state', { bindingId });
    });
    it('refuses to take an active binding from another person', () => {
      binding
        .given([authorized])
        .when(authorize({ recipientId: bob, keyHash: 'k-3' }))
        .thenError('illegal_state', { bindingId });
    });
    it('refuses to bring an old key back to life', () => {
      binding.given([authorized, revoked]).when(authorize()).thenError('illegal_state');
    });
    it('refuses an id that belongs to another app', () => {
      binding
        .given([authorized])
        .when(authorize({ appId: 'app-2', keyHash: 'k-2' }))
        .thenError('illegal_state');
    });
    it('clears block and mute on re-authorization', () => {
      const state = fold(bindingDecider, [
        authorized,
        blocked,
        muted,
        {
          type: 'BindingReauthorized',
          data: { bindingId, recipientId: alice, level: 'weak', keyHash: 'k-2' },
        },
      ]);
      expect(state).to.deep.equal({
        status: 'active',
        bindingId,
        appId: 'app-1',
        openid: 'o-1',
        recipientId: alice,
        level: 'weak',
        keyHash: 'k-2',
        blocked: false,
      });
    });
  });

  describe('ChangeBindingLevel', () => {
    it('changes the level', () => {
      binding
        .given([authorized])
        .when(changeLevel('none'))
        .then([{ type: 'BindingLevelChanged', data: { bindingId, level: 'none' } }]);
    });
    it('ignores the current level', () => {
      binding.given([authorized]).when(changeLevel('strong')).thenNothing();
    });
    it('answers not_found for another person', () => {
      binding
        .given([authorized])
        .when(changeLevel('weak', bob))
        .thenError('not_found', { bindingId });
    });
    it('answers not_found for a missing binding', () => {
      binding.given([]).when(changeLevel('weak')).thenError('not_found', { bindingId });
    });
    it('refuses a revoked binding', () => {
      binding
        .given([authorized, revoked])
        .when(changeLevel('weak'))
        .thenError('binding_revoked', { bindingId });
    });
  });

  describe('MuteBinding', () => {
    it('mutes until a time', () => {
      binding.given([authorized]).when(mute('2025-03-02T08:00:00.000Z')).then([muted]);
    });
    it('moves the end of a mute', () => {
      binding
        .given([authorized, muted])
        .when(mute('2025-03-01T18:00:00.000Z'))
        .then([{ type: 'BindingMuted', data: { bindingId, until: '2025-03-01T18:00:00.000Z' } }]);
    });
    it('ignores the same end time, however it is written', () => {
      binding.given([authorized, muted]).when(mute('2025-03-02T08:00:00Z')).thenNothing();
    });
    it('refuses an end time that has passed', () => {
      binding.given([authorized]).when(mute(now)).thenError('validation_failed');
    });
    it('answers not_found for another person', () => {
      binding
        .given([authorized])
        .when(mute('2025-03-02T08:00:00.000Z', bob))
        .thenError('not_found');
    });
    it('refuses a revoked binding', () => {
      binding
        .given([authorized, revoked])
        .when(mute('2025-03-02T08:00:00.000Z'))
        .thenError('binding_revoked');
    });
  });

  describe('UnmuteBinding', () => {
    it('unmutes', () => {
      binding
        .given([authorized, muted])
        .when(simple('UnmuteBinding'))
        .then([{ type: 'BindingUnmuted', data: { bindingId } }]);
    });
    it('ignores a binding that is not muted', () => {
      binding.given([authorized]).when(simple('UnmuteBinding')).thenNothing();
    });
    it('ignores a repeat', () => {
      binding
        .given([authorized, muted, { type: 'BindingUnmuted', data: { bindingId } }])
        .when(simple('UnmuteBinding'))
        .thenNothing();
    });
    it('refuses a revoked binding', () => {
      binding
        .given([authorized, muted, revoked])
        .when(simple('UnmuteBinding'))
        .thenError('binding_revoked');
    });
  });

  describe('BlockBinding', () => {
    it('blocks', () => {
      binding.given([authorized]).when(simple('BlockBinding')).then([blocked]);
    });
    it('ignores blocking a blocked binding', () => {
      binding.given([authorized, blocked]).when(simple('BlockBinding')).thenNothing();
    });
    it('answers not_found for another person', () => {
      binding.given([authorized]).when(simple('BlockBinding', bob)).thenError('not_found');
    });
    it('refuses a revoked binding', () => {
      binding
        .given([authorized, revoked])
        .when(simple('BlockBinding'))
        .thenError('binding_revoked');
    });
  });

  describe('UnblockBinding', () => {
    it('unblocks', () => {
      binding
        .given([authorized, blocked])
        .when(simple('UnblockBinding'))
        .then([{ type: 'BindingUnblocked', data: { bindingId } }]);
    });
    it('ignores a binding that is not blocked', () => {
      binding.given([authorized]).when(simple('UnblockBinding')).thenNothing();
    });
    it('refuses a revoked binding', () => {
      binding
        .given([authorized, blocked, revoked])
        .when(simple('UnblockBinding'))
        .thenError('binding_revoked');
    });
  });

  describe('RevokeBinding', () => {
    it('revokes', () => {
      binding.given([authorized]).when(simple('RevokeBinding')).then([revoked]);
    });
    it('ignores revoking twice', () => {
      binding.given([authorized, revoked]).when(simple('RevokeBinding')).thenNothing();
    });
    it('answers not_found for another person', () => {
      binding.given([authorized]).when(simple('RevokeBinding', bob)).thenError('not_found');
    });
    it('answers not_found for the former owner once someone else re-authorized', () => {
      binding
        .given([
          authorized,
          revoked,
          {
            type: 'BindingReauthorized',
            data: { bindingId, recipientId: bob, level: 'weak', keyHash: 'k-3' },
          },
        ])
        .when(simple('RevokeBinding', alice))
        .thenError('not_found');
    });
  });

  describe('ChooseBindingDevices', () => {
    const choose = (devices: readonly string[] | null, recipientId = alice): BindingCommand => ({
      type: 'ChooseBindingDevices',
      data: { bindingId, recipientId, devices },
      metadata,
    });
    const chosen = (devices: readonly string[] | null): BindingEvent => ({
      type: 'BindingDevicesChosen',
      data: { bindingId, devices },
    });
    it('names the devices, and goes back to all of them with null', () => {
      binding
        .given([authorized])
        .when(choose(['dev_a']))
        .then([chosen(['dev_a'])]);
      binding
        .given([authorized, chosen(['dev_a'])])
        .when(choose(null))
        .then([chosen(null)]);
      const state = fold(bindingDecider, [authorized, chosen(['dev_a', 'bark'])]);
      expect(state.status === 'empty' ? undefined : state.devices).to.deep.equal(['dev_a', 'bark']);
    });
    it('ignores the same choice again, all included', () => {
      binding.given([authorized]).when(choose(null)).thenNothing();
      binding
        .given([authorized, chosen(['dev_a'])])
        .when(choose(['dev_a']))
        .thenNothing();
    });
    it('refuses a device named twice, someone else’s binding, and a revoked one', () => {
      binding
        .given([authorized])
        .when(choose(['dev_a', 'dev_a']))
        .thenError('validation_failed');
      binding
        .given([authorized])
        .when(choose(['dev_a'], bob))
        .thenError('not_found');
      binding
        .given([authorized, revoked])
        .when(choose(['dev_a']))
        .thenError('binding_revoked');
    });
    it('is forgotten by a re-authorization: the person chooses anew', () => {
      const reauthorized: BindingEvent = {
        type: 'BindingReauthorized',
        data: { bindingId, recipientId: alice, level: 'strong', keyHash: 'k-2' },
      };
      const state = fold(bindingDecider, [authorized, chosen(['dev_a']), revoked, reauthorized]);
      expect(state.status === 'empty' ? 'empty' : state.devices).to.equal(undefined);
    });
  });

  describe('events', () => {
    it('round-trip through BindingEventCodec, and a malformed one is refused', () => {
      expectEventsRoundTrip(BindingEventCodec, bindingEventTypes, binding.recorded, {
        type: 'BindingAuthorized',
        data: { ...authorized.data, level: 'none' },
      });
    });
  });
});
