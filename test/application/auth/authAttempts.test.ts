import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { authAttempts } from '../../../application/auth/authAttempts.js';
import { logIn } from '../../../application/auth/logIn.js';
import { registerRecipient } from '../../../application/auth/registerRecipient.js';
import type { StartSession } from '../../../application/auth/startSession.js';
import { isPromise } from '../../../application/shared/maybePromise.js';
import type { FailureBudget } from '../../../application/shared/rateLimiter.js';
import { domainError } from '../../../domain/shared/domainError.js';
import type { RecipientQueries } from '../../../projections/recipients/recipientQueries.js';
import { TokenBuckets } from '../../../adapters/http/rateLimiter.js';
import { callAt, fakeCommands, fakeIds } from '../messages/fakes.js';

const NOW = '2026-05-01T10:00:00.000Z';

/** Failure budgets of `burst` tokens on a stopped clock (nothing refills), by address and name. */
const budgets = (burst: { byIp: number; byUsername: number }) => ({
  byIp: new TokenBuckets({ burst: burst.byIp, refillPerSecond: 1, now: () => 0 }),
  byUsername: new TokenBuckets({ burst: burst.byUsername, refillPerSecond: 1, now: () => 0 }),
});

/**
 * `buckets` answering as a budget in a database the nodes share does: each call does its work on
 * a later turn of the event loop and answers with a promise, so an answer not waited for is an
 * answer not there yet.
 */
const later = (buckets: TokenBuckets): FailureBudget & { readonly calls: string[] } => {
  const calls: string[] = [];
  const deferred = <T>(call: string, work: () => T): Promise<T> =>
    new Promise((resolve) =>
      setImmediate(() => {
        calls.push(call);
        resolve(work());
      }),
    );
  return {
    calls,
    take: (key) => deferred(`take ${key}`, () => buckets.take(key)),
    give: (key) =>
      deferred(`give ${key}`, () => {
        buckets.give(key);
      }),
    reset: (key) =>
      deferred(`reset ${key}`, () => {
        buckets.reset(key);
      }),
  };
};

/** Budgets of `burst` tokens like {@link budgets}, answering with promises, and the buckets. */
const asyncBudgets = (burst: { byIp: number; byUsername: number }) => {
  const buckets = budgets(burst);
  return { buckets, byIp: later(buckets.byIp), byUsername: later(buckets.byUsername) };
};

/** Lets every deferred budget call and every waiting continuation run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

const started: StartSession = (recipientId, username) =>
  Promise.resolve(E.right({ recipientId, username, sessionId: 'tss_secret' }));

/** A password check that waits until released, and counts how often it ran. */
const slowPasswords = () => {
  const checks: string[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    checks,
    release: () => {
      release();
    },
    passwords: {
      hash: (password: string) => Promise.resolve(`hashed(${password})`),
      verify: async (password: string) => {
        checks.push(password);
        await released;
        return password === 'right password';
      },
    },
  };
};

const noOne = { byId: () => undefined } as unknown as Pick<RecipientQueries, 'byId'>;

describe('authAttempts: the failure budgets of logging in and registering', () => {
  it('refuses parallel login attempts beyond the budget before any password work', async () => {
    const attempts = authAttempts(budgets({ byIp: 10, byUsername: 3 }));
    const slow = slowPasswords();
    const logInWith = logIn({
      recipients: noOne,
      ids: fakeIds,
      passwords: slow.passwords,
      attempts,
      startSession: started,
    });
    const guesses = [1, 2, 3, 4, 5].map((n) =>
      logInWith({ username: 'Ada', password: `guess ${n}` }, '10.0.0.1', callAt(NOW)),
    );
    // Every guess has been counted before any of them finished its password check.
    expect(slow.checks).to.deep.equal(['guess 1', 'guess 2', 'guess 3']);
    slow.release();
    const answers = await Promise.all(guesses);
    expect(answers.map((a) => (E.isLeft(a) ? a.left.code : 'ok'))).to.deep.equal([
      'unauthorized',
      'unauthorized',
      'unauthorized',
      'rate_limited',
      'rate_limited',
    ]);
    expect(answers[3]).to.deep.equal(
      E.left({ code: 'rate_limited', message: 'too many failed attempts', retryAfterSeconds: 1 }),
    );
  });

  it('counts a name in any case and width as one, and gives the address its token back', () => {
    const buckets = budgets({ byIp: 5, byUsername: 1 });
    const attempts = authAttempts(buckets);
    // In-process budgets answer within the call, as parallel requests see them.
    expect(attempts.take('10.0.0.1', 'Ada')).to.deep.equal(E.right(undefined));
    expect(attempts.take('10.0.0.1', 'ＡＤＡ')).to.deep.include({ _tag: 'Left' });
    // The name's refusal did not cost the address: 4 of 5 tokens are left, not 3.
    for (let n = 0; n < 4; n += 1) expect(buckets.byIp.take('10.0.0.1').allowed).to.equal(true);
    expect(buckets.byIp.take('10.0.0.1').allowed).to.equal(false);
  });

  it('a success gives the address token back and starts the username afresh', () => {
    const buckets = budgets({ byIp: 2, byUsername: 2 });
    const attempts = authAttempts(buckets);
    expect(attempts.take('10.0.0.1', 'ada')).to.deep.equal(E.right(undefined));
    expect(attempts.take('10.0.0.1', 'ada')).to.deep.equal(E.right(undefined));
    expect(attempts.take('10.0.0.1', 'ada')).to.deep.include({ _tag: 'Left' });
    expect(attempts.succeeded('10.0.0.1', 'Ada')).to.equal(undefined);
    expect(buckets.byIp.peek('10.0.0.1')).to.deep.equal({ allowed: true });
    expect(buckets.byIp.take('10.0.0.1').allowed).to.equal(true);
    expect(buckets.byIp.take('10.0.0.1').allowed).to.equal(false);
    // The name is full again: both its tokens, from another address.
    expect(buckets.byUsername.take('ada').allowed).to.equal(true);
    expect(buckets.byUsername.take('ada').allowed).to.equal(true);
  });

  it('registration: the account budget comes first, and a taken name keeps the attempt', async () => {
    const buckets = budgets({ byIp: 5, byUsername: 5 });
    const registrations = new TokenBuckets({ burst: 1, refillPerSecond: 1, now: () => 0 });
    const register = registerRecipient({
      commands: fakeCommands(() => E.left(domainError('already_exists', 'recipient exists'))),
      ids: fakeIds,
      passwords: slowPasswords().passwords,
      registrations,
      attempts: authAttempts(buckets),
      startSession: started,
    });
    const credentials = { username: 'ada', password: 'secret secret' };
    expect(await register(credentials, '10.0.0.1', callAt(NOW))).to.deep.equal(
      E.left({ code: 'already_exists', message: 'the username ada is taken' }),
    );
    const again = await register(credentials, '10.0.0.1', callAt(NOW));
    expect(E.isLeft(again) && again.left.message).to.equal(
      'too many new accounts from this address',
    );
    // The taken name cost one attempt of each budget; the refused registration none.
    expect(buckets.byIp.peek('10.0.0.1', 5).allowed).to.equal(false);
    expect(buckets.byIp.peek('10.0.0.1', 4).allowed).to.equal(true);
    expect(buckets.byUsername.peek('ada', 5).allowed).to.equal(false);
    expect(buckets.byUsername.peek('ada', 4).allowed).to.equal(true);
  });

  describe('with budgets that answer with promises (shared by the nodes)', () => {
    it('refuses by the name alone only once the address token is back', async () => {
      const async = asyncBudgets({ byIp: 5, byUsername: 1 });
      const attempts = authAttempts(async);
      const first = attempts.take('10.0.0.1', 'Ada');
      expect(isPromise(first)).to.equal(true);
      expect(await first).to.deep.equal(E.right(undefined));
      const second = await attempts.take('10.0.0.1', 'ＡＤＡ');
      expect(second).to.deep.equal(
        E.left({ code: 'rate_limited', message: 'too many failed attempts', retryAfterSeconds: 1 }),
      );
      // Answered after the give-back, not before: 4 of 5 address tokens are left, not 3.
      expect(async.buckets.byIp.peek('10.0.0.1', 4).allowed).to.equal(true);
      expect(async.buckets.byIp.peek('10.0.0.1', 5).allowed).to.equal(false);
      expect(async.byIp.calls).to.deep.equal(['take 10.0.0.1', 'take 10.0.0.1', 'give 10.0.0.1']);
      expect(async.byUsername.calls).to.deep.equal(['take ada', 'take ada']);
    });

    it('a spent address takes nothing from the name, and gives nothing back', async () => {
      const async = asyncBudgets({ byIp: 1, byUsername: 3 });
      const attempts = authAttempts(async);
      expect(await attempts.take('10.0.0.1', 'ada')).to.deep.equal(E.right(undefined));
      expect(await attempts.take('10.0.0.1', 'ada')).to.deep.equal(
        E.left({ code: 'rate_limited', message: 'too many failed attempts', retryAfterSeconds: 1 }),
      );
      expect(async.byIp.calls).to.deep.equal(['take 10.0.0.1', 'take 10.0.0.1']);
      expect(async.byUsername.calls).to.deep.equal(['take ada']);
      expect(async.buckets.byUsername.peek('ada', 2).allowed).to.equal(true);
      expect(async.buckets.byUsername.peek('ada', 3).allowed).to.equal(false);
    });

    it('a success has given the address token back and started the name afresh when it answers', async () => {
      const async = asyncBudgets({ byIp: 2, byUsername: 2 });
      const attempts = authAttempts(async);
      expect(await attempts.take('10.0.0.1', 'ada')).to.deep.equal(E.right(undefined));
      expect(await attempts.take('10.0.0.1', 'ada')).to.deep.equal(E.right(undefined));
      expect(await attempts.take('10.0.0.1', 'ada')).to.deep.include({ _tag: 'Left' });
      const succeeded = attempts.succeeded('10.0.0.1', 'Ada');
      expect(isPromise(succeeded)).to.equal(true);
      await succeeded;
      expect(async.buckets.byIp.peek('10.0.0.1')).to.deep.equal({ allowed: true });
      expect(async.buckets.byIp.peek('10.0.0.1', 2).allowed).to.equal(false);
      expect(async.buckets.byUsername.peek('ada', 2)).to.deep.equal({ allowed: true });
      expect(async.byUsername.calls.slice(-1)).to.deep.equal(['reset ada']);
    });

    it('logging in: parallel guesses beyond the budget are refused before any password work', async () => {
      const async = asyncBudgets({ byIp: 10, byUsername: 3 });
      const slow = slowPasswords();
      const logInWith = logIn({
        recipients: noOne,
        ids: fakeIds,
        passwords: slow.passwords,
        attempts: authAttempts(async),
        startSession: started,
      });
      const guesses = [1, 2, 3, 4, 5].map((n) =>
        logInWith({ username: 'Ada', password: `guess ${n}` }, '10.0.0.1', callAt(NOW)),
      );
      await settle();
      // Every guess has been counted, and none finished its password check.
      expect(slow.checks).to.deep.equal(['guess 1', 'guess 2', 'guess 3']);
      slow.release();
      const answers = await Promise.all(guesses);
      expect(answers.map((a) => (E.isLeft(a) ? a.left.code : 'ok'))).to.deep.equal([
        'unauthorized',
        'unauthorized',
        'unauthorized',
        'rate_limited',
        'rate_limited',
      ]);
      // The two refused by the name gave their address tokens back: 5 taken, 2 given.
      expect(async.buckets.byIp.peek('10.0.0.1', 7).allowed).to.equal(true);
      expect(async.buckets.byIp.peek('10.0.0.1', 8).allowed).to.equal(false);
    });

    it('registering: waits for the account budget, and keeps the attempt of a taken name', async () => {
      const async = asyncBudgets({ byIp: 5, byUsername: 5 });
      const registrations = later(new TokenBuckets({ burst: 1, refillPerSecond: 1, now: () => 0 }));
      const register = registerRecipient({
        commands: fakeCommands(() => E.left(domainError('already_exists', 'recipient exists'))),
        ids: fakeIds,
        passwords: slowPasswords().passwords,
        registrations,
        attempts: authAttempts(async),
        startSession: started,
      });
      const credentials = { username: 'ada', password: 'secret secret' };
      expect(await register(credentials, '10.0.0.1', callAt(NOW))).to.deep.equal(
        E.left({ code: 'already_exists', message: 'the username ada is taken' }),
      );
      expect(await register(credentials, '10.0.0.1', callAt(NOW))).to.deep.equal(
        E.left({
          code: 'rate_limited',
          message: 'too many new accounts from this address',
          retryAfterSeconds: 1,
        }),
      );
      expect(registrations.calls).to.deep.equal(['take 10.0.0.1', 'take 10.0.0.1']);
      expect(async.buckets.byIp.peek('10.0.0.1', 4).allowed).to.equal(true);
      expect(async.buckets.byIp.peek('10.0.0.1', 5).allowed).to.equal(false);
      expect(async.byUsername.calls).to.deep.equal(['take ada']);
    });
  });
});
