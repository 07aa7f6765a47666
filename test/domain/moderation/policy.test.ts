import { expect } from 'chai';
import {
  moderate,
  type ModerationInput,
  type ModerationPolicy,
  type PolicyVerdict,
} from '../../../domain/moderation/policy.js';

const input: ModerationInput = { messageId: 'm-1', appId: 'app-1', body: 'Your order has shipped' };

/** A policy that answers `verdict` and records that it was asked. */
const fixed = (name: string, verdict: PolicyVerdict, asked: string[] = []): ModerationPolicy => ({
  name,
  check: (seen) => {
    expect(seen).to.equal(input);
    asked.push(name);
    return verdict;
  },
});

describe('moderate (the policy chain)', () => {
  it('approves when every policy passes, naming the whole chain', async () => {
    const asked: string[] = [];
    const chain = [
      fixed('denylist', { kind: 'pass' }, asked),
      fixed('limits', { kind: 'pass' }, asked),
      fixed('wechat', { kind: 'pass' }, asked),
    ];
    expect(await moderate(chain, input)).to.deep.equal({
      kind: 'approve',
      policy: 'denylist+limits+wechat',
    });
    expect(asked).to.deep.equal(['denylist', 'limits', 'wechat']);
  });

  it('asks the policies in order, awaiting asynchronous ones', async () => {
    const asked: string[] = [];
    const slow: ModerationPolicy = {
      name: 'slow',
      check: async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        asked.push('slow');
        return { kind: 'pass' };
      },
    };
    await moderate([slow, fixed('fast', { kind: 'pass' }, asked)], input);
    expect(asked).to.deep.equal(['slow', 'fast']);
  });

  it('stops at a rejection: later policies are not asked', async () => {
    const asked: string[] = [];
    const outcome = await moderate(
      [
        fixed('denylist', { kind: 'reject', reason: 'contains a denied term: 刷单' }, asked),
        fixed('wechat', { kind: 'pass' }, asked),
      ],
      input,
    );
    expect(outcome).to.deep.equal({
      kind: 'reject',
      policy: 'denylist',
      reason: 'contains a denied term: 刷单',
    });
    expect(asked).to.deep.equal(['denylist']);
  });

  it('lets the first verdict that is not pass decide', async () => {
    const asked: string[] = [];
    const outcome = await moderate(
      [
        fixed('limits', { kind: 'pass' }, asked),
        fixed('wechat', { kind: 'hold', reason: 'review suggested' }, asked),
        fixed('later', { kind: 'reject', reason: 'too late to matter' }, asked),
      ],
      input,
    );
    expect(outcome).to.deep.equal({ kind: 'hold', policy: 'wechat', reason: 'review suggested' });
    expect(asked).to.deep.equal(['limits', 'wechat']);
  });

  it('carries a rejecting policy’s label', async () => {
    const outcome = await moderate(
      [fixed('wechat', { kind: 'reject', reason: 'risky: 20008 (fraud)', label: '20008' })],
      input,
    );
    expect(outcome).to.deep.equal({
      kind: 'reject',
      policy: 'wechat',
      reason: 'risky: 20008 (fraud)',
      label: '20008',
    });
  });

  it('holds when a policy throws, and asks no further', async () => {
    const asked: string[] = [];
    const broken: ModerationPolicy = {
      name: 'broken',
      check: () => {
        throw new Error('index not loaded');
      },
    };
    const outcome = await moderate([broken, fixed('after', { kind: 'pass' }, asked)], input);
    expect(outcome).to.deep.equal({
      kind: 'hold',
      policy: 'broken',
      reason: 'policy broken failed: index not loaded',
    });
    expect(asked).to.deep.equal([]);
  });

  it('holds when a policy’s promise rejects, or it answers no verdict', async () => {
    const rejecting: ModerationPolicy = {
      name: 'remote',
      check: () => Promise.reject(new Error('socket hang up')),
    };
    expect(await moderate([rejecting], input)).to.deep.equal({
      kind: 'hold',
      policy: 'remote',
      reason: 'policy remote failed: socket hang up',
    });
    const confused = { name: 'confused', check: () => undefined } as unknown as ModerationPolicy;
    const outcome = await moderate([confused], input);
    expect(outcome.kind).to.equal('hold');
    expect(outcome.policy).to.equal('confused');
  });

  it('refuses an empty chain', async () => {
    let error: unknown;
    try {
      await moderate([], input);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/empty/);
  });
});
