import { expect } from 'chai';
import {
  defaultRetryPolicy,
  nextRetry,
  parseRetryAfter,
  type RetryDecision,
  type RetryPolicy,
} from '../../../domain/delivery/retryPolicy.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const low = () => 0;
const high = () => 1;
const middle = () => 0.5;

const waitOf = (decision: RetryDecision): number => {
  if (!('retryAt' in decision))
    throw new Error(`expected a retry, got ${JSON.stringify(decision)}`);
  return decision.retryAt - NOW;
};

describe('retry policy', () => {
  describe('default schedule', () => {
    const nominal = [15_000, 30_000, 60_000, 120_000, 240_000];

    it('is 6 attempts: 15 s, 30 s, 60 s, 120 s, 240 s before attempts 2-6, ±20%', () => {
      expect(defaultRetryPolicy).to.deep.equal({
        maxAttempts: 6,
        baseDelayMs: 15_000,
        factor: 2,
        maxDelayMs: 300_000,
        jitter: 0.2,
      });
      nominal.forEach((wait, index) => {
        const attempt = index + 1;
        expect(waitOf(nextRetry(defaultRetryPolicy, attempt, NOW, middle)), `${attempt}`).to.equal(
          wait,
        );
        expect(waitOf(nextRetry(defaultRetryPolicy, attempt, NOW, low)), `${attempt}`).to.equal(
          wait * 0.8,
        );
        expect(waitOf(nextRetry(defaultRetryPolicy, attempt, NOW, high)), `${attempt}`).to.equal(
          wait * 1.2,
        );
      });
    });

    it('stays within the jitter bounds for any random value', () => {
      for (const [index, wait] of nominal.entries()) {
        for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.999, 1]) {
          const delay = waitOf(nextRetry(defaultRetryPolicy, index + 1, NOW, () => r));
          expect(delay).to.be.within(wait * 0.8, wait * 1.2);
        }
      }
    });

    it('spends about ten minutes at most from the first failure to the last attempt', () => {
      const total = [1, 2, 3, 4, 5]
        .map((attempt) => waitOf(nextRetry(defaultRetryPolicy, attempt, NOW, high)))
        .reduce((sum, wait) => sum + wait, 0);
      expect(total).to.equal(558_000);
      expect(total).to.be.at.most(600_000);
    });

    it('abandons after the sixth attempt fails, whatever the random value or Retry-After', () => {
      for (const attempt of [6, 7, 100]) {
        expect(nextRetry(defaultRetryPolicy, attempt, NOW, low, 1_000)).to.deep.equal({
          abandon: true,
          reason: 'attempts_exhausted',
        });
      }
    });
  });

  describe('bounds', () => {
    const steep: RetryPolicy = {
      maxAttempts: 20,
      baseDelayMs: 1_000,
      factor: 10,
      maxDelayMs: 60_000,
      jitter: 0.5,
    };

    it('never waits longer than maxDelayMs, jitter included', () => {
      for (const attempt of [3, 4, 10, 19]) {
        expect(waitOf(nextRetry(steep, attempt, NOW, high))).to.equal(60_000);
      }
    });

    it('clamps a random value outside 0..1', () => {
      expect(waitOf(nextRetry(steep, 1, NOW, () => -3))).to.equal(500);
      expect(waitOf(nextRetry(steep, 1, NOW, () => 7))).to.equal(1_500);
    });

    it('waits exactly the nominal time without jitter', () => {
      expect(waitOf(nextRetry({ ...steep, jitter: 0 }, 2, NOW, high))).to.equal(10_000);
    });

    it('refuses a nonsensical attempt or policy (a bug) with a RangeError', () => {
      for (const attempt of [0, -1, 1.5, Number.NaN]) {
        expect(() => nextRetry(defaultRetryPolicy, attempt, NOW, low)).to.throw(RangeError);
      }
      for (const broken of [
        { maxAttempts: 0 },
        { maxAttempts: 2.5 },
        { baseDelayMs: -1 },
        { factor: 0.5 },
        { maxDelayMs: -5 },
        { jitter: 1.5 },
        { jitter: Number.NaN },
      ]) {
        expect(() => nextRetry({ ...defaultRetryPolicy, ...broken }, 1, NOW, low)).to.throw(
          RangeError,
        );
      }
    });
  });

  describe('Retry-After', () => {
    it('is a floor: never earlier than the peer asked', () => {
      expect(waitOf(nextRetry(defaultRetryPolicy, 1, NOW, high, 100_000))).to.equal(100_000);
      expect(waitOf(nextRetry(defaultRetryPolicy, 1, NOW, low, 7_000))).to.equal(12_000);
      expect(waitOf(nextRetry(defaultRetryPolicy, 1, NOW, low, 0))).to.equal(12_000);
    });

    it('may reach maxDelayMs but not pass it: a longer one abandons the delivery', () => {
      expect(waitOf(nextRetry(defaultRetryPolicy, 2, NOW, low, 300_000))).to.equal(300_000);
      expect(nextRetry(defaultRetryPolicy, 2, NOW, low, 300_001)).to.deep.equal({
        abandon: true,
        reason: 'retry_after_too_long',
      });
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('7', NOW)).to.equal(7_000);
    expect(parseRetryAfter(' 120 ', NOW)).to.equal(120_000);
    expect(parseRetryAfter('0', NOW)).to.equal(0);
    expect(parseRetryAfter(7, NOW)).to.equal(7_000);
    expect(parseRetryAfter(['3', '9'], NOW)).to.equal(3_000);
  });

  it('reads an IMF-fixdate as the wait from now, and a past date as no wait', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:01:30 GMT', NOW)).to.equal(90_000);
    expect(parseRetryAfter(new Date(NOW + 5_000).toUTCString(), NOW)).to.equal(5_000);
    expect(parseRetryAfter('Wed, 15 Jan 2025 11:00:00 GMT', NOW)).to.equal(0);
  });

  it('reads the obsolete RFC 850 and asctime forms', () => {
    expect(parseRetryAfter('Wednesday, 15-Jan-25 12:00:10 GMT', NOW)).to.equal(10_000);
    expect(parseRetryAfter('Wed Jan 15 12:00:20 2025', NOW)).to.equal(20_000);
    expect(parseRetryAfter('Wed Jan  1 00:00:00 2025', NOW)).to.equal(0);
  });

  it('ignores garbage rather than guessing', () => {
    for (const [index, header] of [
      undefined,
      null,
      '',
      'soon',
      '-5',
      '1.5',
      '7s',
      '2025-01-15T12:05:00Z',
      'Wed, 31 Feb 2025 12:00:00 GMT',
      'Wed, 15 Jan 2025 25:00:00 GMT',
      'Wed, 15 Jan 2025 12:00:00 PST',
      -3,
      2.5,
      true,
      {},
    ].entries()) {
      expect(parseRetryAfter(header, NOW), `case ${index}`).to.equal(undefined);
    }
  });
});
