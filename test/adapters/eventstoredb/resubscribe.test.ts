import { expect } from 'chai';
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  ErrorType,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
} from '@eventstore/db-client';
import {
  DEFAULT_RESUBSCRIBE_POLICY,
  isTransientSubscriptionError,
  resubscribeDelay,
  resubscribePolicy,
} from '../../../adapters/eventstoredb/resubscribe.js';
import { consumerTooSlow, notLeader } from './stubClient.js';

describe('eventstoredb resubscribe rules', () => {
  describe('isTransientSubscriptionError', () => {
    it('resubscribes after the failures a node or leader change causes', () => {
      for (const error of [
        new UnavailableError(),
        new DeadlineExceededError(),
        notLeader(),
        new CancelledError(),
      ]) {
        expect(isTransientSubscriptionError(error), error.constructor.name).to.equal(true);
      }
    });

    it('resubscribes after the "consumer too slow" drop, whatever status it came with', () => {
      expect(isTransientSubscriptionError(consumerTooSlow())).to.equal(true);
      const asUnknown = new UnknownError(
        undefined,
        'Consumer too slow to handle event while live. Client resubscription required.',
      );
      expect(isTransientSubscriptionError(asUnknown)).to.equal(true);
    });

    it('passes real errors on', () => {
      expect(isTransientSubscriptionError(new AccessDeniedError())).to.equal(false);
      expect(isTransientSubscriptionError(new StreamNotFoundError(undefined, 's'))).to.equal(false);
      expect(isTransientSubscriptionError(new UnknownError())).to.equal(false);
      expect(isTransientSubscriptionError(new Error('bug'))).to.equal(false);
      expect(isTransientSubscriptionError('unavailable')).to.equal(false);
    });

    it('recognises a second copy of the client by the type tag, and extra types when asked', () => {
      const copy = Object.assign(new Error('14 UNAVAILABLE'), { type: ErrorType.UNAVAILABLE });
      expect(isTransientSubscriptionError(copy)).to.equal(true);
      const dropped = Object.assign(new Error('dropped'), {
        type: ErrorType.PERSISTENT_SUBSCRIPTION_DROPPED,
      });
      expect(isTransientSubscriptionError(dropped)).to.equal(false);
      expect(
        isTransientSubscriptionError(dropped, new Set([ErrorType.PERSISTENT_SUBSCRIPTION_DROPPED])),
      ).to.equal(true);
    });
  });

  describe('backoff', () => {
    it('doubles from the base delay up to the cap', () => {
      const delays = Array.from({ length: 10 }, (_, i) =>
        resubscribeDelay(i + 1, DEFAULT_RESUBSCRIBE_POLICY),
      );
      expect(delays).to.deep.equal([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000]);
      expect(DEFAULT_RESUBSCRIBE_POLICY.maxAttempts).to.equal(10);
    });

    it('takes changes to the defaults and refuses impossible bounds', () => {
      expect(resubscribePolicy({ maxAttempts: 3 })).to.deep.equal({
        ...DEFAULT_RESUBSCRIBE_POLICY,
        maxAttempts: 3,
      });
      expect(() => resubscribePolicy({ maxAttempts: -1 })).to.throw(RangeError, /maxAttempts/);
      expect(() => resubscribePolicy({ baseDelayMs: Number.NaN })).to.throw(RangeError);
      expect(() => resubscribePolicy({ maxDelayMs: 1.5 })).to.throw(RangeError);
    });
  });
});
