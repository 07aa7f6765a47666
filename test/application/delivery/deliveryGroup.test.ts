import { expect } from 'chai';
import {
  groupDeliveryHandler,
  plannedAttempts,
  type GroupDeliveryDeps,
  type PlannedAttempt,
} from '../../../application/delivery/deliveryGroup.js';
import type { AttemptNowResult } from '../../../application/delivery/deliveryWorker.js';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import { recordingLogger } from '../../support/logs.js';
import { rejectionOf } from '../../support/rejection.js';

const event = (type: string, data: Record<string, unknown>, at = 7): RecordedEvent => ({
  id: `00000000-0000-4000-8000-${at.toString().padStart(12, '0')}`,
  stream: 'message-m1',
  revision: 2,
  type,
  data,
  metadata: {
    occurredAt: '2026-12-07T10:00:00.000Z',
    actor: { kind: 'system', id: 'router' },
    correlationId: 'c1',
    causationId: 'c0',
    schemaVersion: 1,
  },
  position: { commit: BigInt(at), prepare: BigInt(at) },
});

const routed = event('MessageRouted', {
  messageId: 'm1',
  channels: ['inbox', 'bark:phone', 'ntfy:laptop'],
});

/** A delivery as the read model has it: attempts made so far and the planned retry time. */
interface Waiting {
  attempts: number;
  retryAt: string | null;
}

interface Fake {
  readonly deps: GroupDeliveryDeps;
  readonly waiting: Map<string, Waiting>;
  readonly calls: string[];
  readonly abandoned: Array<{ planned: PlannedAttempt; attempts: number; reason: string }>;
  readonly stop: AbortController;
  /** Resolves the read model's wait for an event. */
  caughtUp(): void;
}

const fake = (
  overrides: Partial<GroupDeliveryDeps> & {
    attempt?: (messageId: string, target: string, attempt: number) => Promise<AttemptNowResult>;
  } = {},
): Fake => {
  const waiting = new Map<string, Waiting>();
  const calls: string[] = [];
  const abandoned: Fake['abandoned'] = [];
  const stop = new AbortController();
  let caughtUp: () => void = () => undefined;
  const readModel = new Promise<void>((resolve) => {
    caughtUp = resolve;
  });
  const deps: GroupDeliveryDeps = {
    waitForMessages: (position) => {
      calls.push(`wait ${position.commit}`);
      return readModel;
    },
    headPosition: () => Promise.resolve({ commit: 99n, prepare: 99n }),
    dueAt: (messageId, target) => waiting.get(`${messageId}:${target}`),
    attemptNow: async (messageId, target, attempt) => {
      calls.push(`attempt ${messageId} ${target} ${attempt}`);
      const result = await (overrides.attempt?.(messageId, target, attempt) ??
        Promise.resolve('made' as const));
      waiting.delete(`${messageId}:${target}`);
      return result;
    },
    abandon: (planned, attempts, reason) => {
      abandoned.push({ planned, attempts, reason });
      return Promise.resolve();
    },
    stopping: stop.signal,
    logger: recordingLogger().logger,
    maxFailures: 2,
    ...overrides,
  };
  return {
    deps,
    waiting,
    calls,
    abandoned,
    stop,
    caughtUp: () => {
      caughtUp();
    },
  };
};

describe('delivery through a group of competing consumers (application/delivery/deliveryGroup.ts)', () => {
  describe('plannedAttempts', () => {
    it('plans the first attempt of each device target a routing lists, not the inbox', () => {
      expect(plannedAttempts(routed)).to.deep.equal([
        { messageId: 'm1', target: 'bark:phone', attempt: 1 },
        { messageId: 'm1', target: 'ntfy:laptop', attempt: 1 },
      ]);
    });

    it('plans the next attempt after a failure with a retry time, and none after the last', () => {
      const failed = { messageId: 'm1', channel: 'bark:phone', attempt: 2, error: 'HTTP 502' };
      expect(
        plannedAttempts(
          event('MessageDeliveryFailed', { ...failed, retryAt: '2026-12-07T10:01:00.000Z' }),
        ),
      ).to.deep.equal([{ messageId: 'm1', target: 'bark:phone', attempt: 3 }]);
      expect(plannedAttempts(event('MessageDeliveryFailed', failed))).to.deep.equal([]);
    });

    it('plans nothing for an inbox-only routing or any other event', () => {
      expect(
        plannedAttempts(
          event('MessageRouted', { messageId: 'm1', channels: ['inbox'], inboxOnly: 'weak' }),
        ),
      ).to.deep.equal([]);
      expect(plannedAttempts(event('MessageDelivered', { messageId: 'm1' }))).to.deep.equal([]);
    });
  });

  describe('groupDeliveryHandler', () => {
    it('makes no attempt before the read model has the event, then makes each planned one', async () => {
      const f = fake();
      f.waiting.set('m1:bark:phone', { attempts: 0, retryAt: null });
      f.waiting.set('m1:ntfy:laptop', { attempts: 0, retryAt: null });
      const handled = groupDeliveryHandler(f.deps)(routed, { retryCount: 0 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(f.calls).to.deep.equal(['wait 7']);
      f.caughtUp();
      expect(await handled).to.equal('done');
      expect(f.calls).to.deep.equal([
        'wait 7',
        'attempt m1 bark:phone 1',
        'attempt m1 ntfy:laptop 1',
      ]);
    });

    it('acknowledges without an attempt what moved past the planned attempt (made by a node that died before acking)', async () => {
      const f = fake();
      // bark:phone's first attempt was recorded (it waits for its second); ntfy:laptop is done.
      f.waiting.set('m1:bark:phone', { attempts: 1, retryAt: '2099-01-01T00:00:00.000Z' });
      f.caughtUp();
      expect(await groupDeliveryHandler(f.deps)(routed, { retryCount: 1 })).to.equal('done');
      expect(f.calls).to.deep.equal(['wait 99']);
    });

    it('holds a retry until its time, then makes it', async () => {
      const now = Date.now();
      const f = fake();
      f.waiting.set('m1:bark:phone', { attempts: 1, retryAt: new Date(now + 150).toISOString() });
      f.caughtUp();
      const failed = event('MessageDeliveryFailed', {
        messageId: 'm1',
        channel: 'bark:phone',
        attempt: 1,
        error: 'HTTP 502',
        retryAt: new Date(now + 150).toISOString(),
      });
      const handled = groupDeliveryHandler(f.deps)(failed, { retryCount: 0 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(f.calls).to.deep.equal(['wait 7']);
      expect(await handled).to.equal('done');
      expect(f.calls).to.deep.equal(['wait 7', 'attempt m1 bark:phone 2']);
      expect(Date.now() - now).to.be.at.least(140);
    });

    it('hands a waiting retry back when the node stops, without making it early', async () => {
      const f = fake();
      f.waiting.set('m1:bark:phone', {
        attempts: 1,
        retryAt: new Date(Date.now() + 60_000).toISOString(),
      });
      f.caughtUp();
      const failed = event('MessageDeliveryFailed', {
        messageId: 'm1',
        channel: 'bark:phone',
        attempt: 1,
        error: 'HTTP 502',
        retryAt: new Date(Date.now() + 60_000).toISOString(),
      });
      const handled = groupDeliveryHandler(f.deps)(failed, { retryCount: 0 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      f.stop.abort();
      expect(await handled).to.equal('retry');
      expect(f.calls).to.deep.equal(['wait 7']);
    });

    it('fails (so the event comes again) while the read model is behind', async () => {
      const f = fake({ catchUpMs: 30 });
      const error = await rejectionOf(groupDeliveryHandler(f.deps)(routed, { retryCount: 0 }));
      expect(String(error)).to.contain('did not reach the event');
      expect(f.calls).to.deep.equal(['wait 7']);
    });

    it('passes a failure on below maxFailures on this node; at it, abandons what still waits and parks', async () => {
      const f = fake({
        attempt: () => Promise.reject(new Error('the store refused the record')),
      });
      f.waiting.set('m1:bark:phone', { attempts: 0, retryAt: null });
      f.caughtUp();
      const handler = groupDeliveryHandler(f.deps);
      // The server's count is high (hand-backs at stops count too): it does not park by itself.
      const error = await rejectionOf(handler(routed, { retryCount: 40 }));
      expect(String(error)).to.contain('the store refused the record');
      expect(f.abandoned).to.deep.equal([]);
      expect(await handler(routed, { retryCount: 41 })).to.equal('park');
      expect(f.abandoned).to.have.length(1);
      expect(f.abandoned[0]?.planned).to.deep.equal({
        messageId: 'm1',
        target: 'bark:phone',
        attempt: 1,
      });
      expect(f.abandoned[0]?.attempts).to.equal(0);
      expect(f.abandoned[0]?.reason).to.match(/parked after 2 failures; last: the store refused/);
    });

    it('waits for the log head, not only the event, before judging an event handed out again', async () => {
      const f = fake();
      f.caughtUp();
      await groupDeliveryHandler(f.deps)(routed, { retryCount: 1 });
      expect(f.calls[0]).to.equal('wait 99');
      await groupDeliveryHandler(f.deps)(routed, { retryCount: 0 });
      expect(f.calls.at(-1)).to.equal('wait 7');
    });

    it('answers only once every planned attempt has ended, when one of them fails', async () => {
      let slowDone = false;
      const f = fake({
        attempt: async (_messageId, target) => {
          if (target === 'bark:phone') throw new Error('refused');
          await new Promise((resolve) => setTimeout(resolve, 80));
          slowDone = true;
          return 'made';
        },
      });
      f.waiting.set('m1:bark:phone', { attempts: 0, retryAt: null });
      f.waiting.set('m1:ntfy:laptop', { attempts: 0, retryAt: null });
      f.caughtUp();
      const error = await rejectionOf(groupDeliveryHandler(f.deps)(routed, { retryCount: 0 }));
      expect(String(error)).to.contain('refused');
      expect(slowDone, 'the other attempt ended before the event was answered').to.equal(true);
    });

    it('hands a waiting retry back when its subscription drops, without making it', async () => {
      const f = fake();
      const retryAt = new Date(Date.now() + 60_000).toISOString();
      f.waiting.set('m1:bark:phone', { attempts: 1, retryAt });
      f.caughtUp();
      const failed = event('MessageDeliveryFailed', {
        messageId: 'm1',
        channel: 'bark:phone',
        attempt: 1,
        error: 'HTTP 502',
        retryAt,
      });
      const dropped = new AbortController();
      const handled = groupDeliveryHandler(f.deps)(failed, {
        retryCount: 0,
        signal: dropped.signal,
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      dropped.abort();
      expect(await handled).to.equal('retry');
      expect(f.calls).to.deep.equal(['wait 7']);
      expect(f.stop.signal.aborted, 'the node itself goes on').to.equal(false);
    });
  });
});
