import * as E from 'fp-ts/lib/Either.js';
import type { MessageCommand } from '../../domain/message/messageCommands.js';
import { decideDelivery } from '../../domain/delivery/deliveryDecision.js';
import { nextRetry, type RetryPolicy } from '../../domain/delivery/retryPolicy.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../projections/bindings/bindingQueries.js';
import type { Channel, ChannelContext, SendOutcome } from '../../channels/channel.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import type { DueDelivery, MessageQueries } from '../../projections/messages/messageQueries.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { CommandBus, EventOf, StateOf } from '../commandBus.js';
import type { CommandError, CommandResult } from '../../domain/shared/commandHandler.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { SecretBox } from '../shared/secretBox.js';
import { kindOfTarget } from '../../domain/delivery/deliveryTarget.js';
import { deviceOfTarget, sendToDevice } from './deviceOfTarget.js';
import { markDeviceBroken } from './markDeviceBroken.js';
import { outgoing } from './outgoingMessage.js';
import { withdrawFromDevice } from './withdrawFromDevice.js';
import { RefusedClaims, type AttemptClaims } from '../shared/attemptClaims.js';

export interface DeliveryWorkerOptions {
  readonly commands: CommandBus;
  readonly messages: MessageQueries;
  readonly recipients: RecipientQueries;
  /** The binding and the app as they are now: a retry is a delivery time too. */
  readonly bindings: BindingQueries;
  readonly apps: AppQueries;
  readonly channels: ChannelRegistry;
  /** Opens each device's secret settings just before its push is rendered. */
  readonly secrets: SecretBox;
  readonly context: ChannelContext;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  /** Attempts in flight at once, across all channels; default 64. */
  readonly concurrency?: number;
  /** How often to look for due retries when nothing wakes the worker; default 1,000 ms. */
  readonly pollIntervalMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  /**
   * With several nodes: each attempt is claimed first, so one node makes it (the others skip it
   * until the claim's hold runs out). Absent on a single node.
   */
  readonly claims?: AttemptClaims;
  /**
   * False: the worker does not look for work in the delivery queue; each attempt comes through
   * {@link DeliveryWorker.attemptNow} (EventStoreDB's delivery group hands them out). Default true.
   */
  readonly scans?: boolean;
}

/** What {@link DeliveryWorker.attemptNow} found and did. */
export type AttemptNowResult =
  /** The attempt was made and its outcome recorded (or refused by the message, e.g. recalled). */
  | 'made'
  /**
   * Nothing to do: the delivery is not waiting for this attempt any more (recorded already,
   * abandoned, ended) or is no device delivery of this message.
   */
  | 'settled';

/** A send whose outcome the store did not take yet. */
interface Unrecorded {
  readonly outcome: SendOutcome;
  /** The attempt number the outcome is for. */
  readonly attempt: number;
  /** When the send ended: the time of its record, whenever that is written. */
  readonly at: Date;
  readonly failures: number;
  /** `performance.now()` before which the record is not tried again. */
  readonly notBefore: number;
}

/** One attempt's record waiting to be appended with the others on its message. */
interface PendingRecord {
  readonly commands: readonly MessageCommand[];
  readonly commandId: string;
  readonly orderKey: number;
  /** The routing event that planned the delivery, and the submission's correlation id. */
  readonly cause: { readonly causationId?: string; readonly correlationId?: string };
  readonly done: {
    readonly resolve: (result: RecordResult) => void;
    readonly reject: (error: unknown) => void;
  };
}

type RecordResult = E.Either<CommandError, CommandResult<EventOf<'message'>, StateOf<'message'>>>;

/** Retry times a worker keeps in mind at most; later ones are found by the poll. */
const MAX_KNOWN_RETRY_TIMES = 10_000;
/** Longest wait between tries to record an outcome the store refused. */
const RECORD_RETRY_MAX_MS = 30_000;
/** How long `attemptNow` tries a refused record again before giving the attempt up to the caller. */
const LOCAL_RECORD_WINDOW_MS = 20_000;
/** Unrecorded outcomes kept at most (the oldest are dropped; their deliveries are then sent again). */
const MAX_UNRECORDED = 10_000;

/**
 * Sends device deliveries: every channel delivery the router planned, and every retry whose time
 * has come, read from the delivery queue (the messages read model). Each attempt is recorded as an
 * event: delivered, failed with the time of the next try, or failed and abandoned. Attempts run
 * concurrently, so a slow or failing channel never holds up another channel or another message.
 *
 * A crash between a send and its record repeats that attempt after restart (at-least-once); a
 * channel collapses the repeat when it carries the same notification id (Bark does).
 */
export class DeliveryWorker {
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private scanQueued = false;
  /** New deliveries up to this insertion sequence have been started. */
  private cursor = 0;
  /**
   * Whether new deliveries may wait after the cursor: set by every wake from outside (the queue
   * changed), every poll and every failed record; cleared when a look at them found less than it
   * asked for. A finished attempt frees a slot but adds no delivery, so it looks at new ones only
   * while this is set (a backlog bigger than the slots): otherwise every device push would cost
   * a query that finds nothing.
   */
  private moreFresh = true;
  /**
   * Before this time (ms, the worker's clock) no retry is known to be due, so a scan skips the
   * look at retries: every finished attempt wakes the worker, and looking each time would cost a
   * query per device push. Lowered to each retry time this worker records, and to 0 by every poll
   * (which finds retries recorded elsewhere) and after a failed record; a look that finds the
   * retries short sets it to the earliest of `retryTimes` still to come.
   */
  private retriesCheckAt = 0;
  /**
   * The retry times this worker recorded that have not come yet (ms), so that a look at retries
   * before they are due does not forget them. Bounded: past it, the poll finds the rest.
   */
  private retryTimes: number[] = [];
  /** Retries in flight: they still read as due until recorded, so the look at retries skips them. */
  private retriesInFlight = 0;
  /** Outcomes sent but not recorded (the store failed), by delivery: recorded again, not re-sent. */
  private readonly unrecorded = new Map<string, Unrecorded>();
  /** Records waiting for the end of this turn of the event loop, by message (see `submit`). */
  private readonly pendingRecords = new Map<string, PendingRecord[]>();
  private readonly now: () => Date;
  private readonly random: () => number;
  /** Attempts another node claimed: skipped until their claim may have run out. */
  private readonly refused: RefusedClaims | undefined;
  /** `attemptNow` calls in flight, and those waiting for a place. */
  private slotsTaken = 0;
  private readonly slotWaiters: Array<() => void> = [];

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.refused =
      options.claims === undefined ? undefined : new RefusedClaims(options.claims.holdMs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.options.scans === false) return;
    this.schedule();
    this.wake();
  }

  /**
   * Makes attempt number `attempt` of the delivery of `messageId` through `channel` (a target)
   * now, due or not, and resolves once its outcome is recorded; rejects when the record failed
   * after trying it again for up to 20 s (the outcome stays kept, so a later call on this node
   * records it without sending again). An attempt of the same delivery already in flight is
   * waited for first, and at most `concurrency` run at once. For a worker that does not scan
   * (see `scans`): the caller decides which attempts this node makes.
   */
  async attemptNow(messageId: string, channel: string, attempt: number): Promise<AttemptNowResult> {
    const release = await this.slot();
    try {
      const key = `${messageId}:${channel}`;
      for (let running = this.inFlight.get(key); running !== undefined;) {
        await running;
        running = this.inFlight.get(key);
      }
      // Read after any attempt in flight: it may have moved the delivery on.
      const delivery = this.options.messages.pendingDelivery(messageId, channel);
      if (delivery === undefined || delivery.attempts + 1 !== attempt) return 'settled';
      const made = this.recordedAttempt(delivery, key).finally(() => {
        this.inFlight.delete(key);
      });
      this.inFlight.set(
        key,
        made.catch(() => undefined),
      );
      await made;
      return 'made';
    } finally {
      release();
    }
  }

  /**
   * One attempt, whose record is tried again here for a while when the store refuses it: the
   * outcome is kept on this node only, and the event handed to another node would send again.
   */
  private async recordedAttempt(delivery: DueDelivery, key: string): Promise<void> {
    const giveUpAt = performance.now() + LOCAL_RECORD_WINDOW_MS;
    for (;;) {
      try {
        await this.attempt(delivery, key);
        return;
      } catch (error) {
        const kept = this.unrecorded.get(key);
        const now = performance.now();
        if (kept === undefined || kept.notBefore >= giveUpAt || !this.running) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, kept.notBefore - now)));
      }
    }
  }

  /** A place among the `concurrency` attempts in flight at once, for `attemptNow`. */
  private async slot(): Promise<() => void> {
    const limit = this.options.concurrency ?? 64;
    while (this.slotsTaken >= limit) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    this.slotsTaken += 1;
    return () => {
      this.slotsTaken -= 1;
      this.slotWaiters.shift()?.();
    };
  }

  /** Stops taking new work and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await Promise.all(this.inFlight.values());
  }

  /**
   * Looks for due work (called when the delivery queue changed). Wake-ups in one turn of the
   * event loop — every finished attempt and every projection batch wakes the worker — share one
   * look at the queue.
   */
  wake(): void {
    if (this.options.scans === false) return;
    this.moreFresh = true;
    this.queueScan();
  }

  private queueScan(): void {
    if (!this.running || this.scanQueued || this.options.scans === false) return;
    this.scanQueued = true;
    setImmediate(() => {
      this.scanQueued = false;
      if (this.running) this.scan();
    });
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Whether an attempt of this delivery is being made on this node now. */
  isInFlight(messageId: string, channel: string): boolean {
    return this.inFlight.has(`${messageId}:${channel}`);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      // Once a poll interval, look at every waiting delivery again from the start of the index
      // (deliveries in flight are skipped), whatever the cursor says.
      this.cursor = 0;
      this.retriesCheckAt = 0;
      this.wake();
      if (this.running) this.schedule();
    }, this.options.pollIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Makes sure a scan looks at retries once `at` (ms) has come. */
  private expectRetry(at: number): void {
    this.retriesCheckAt = Math.min(this.retriesCheckAt, at);
    if (this.retryTimes.length < MAX_KNOWN_RETRY_TIMES) this.retryTimes.push(at);
  }

  private scan(): void {
    const limit = this.options.concurrency ?? 64;
    if (this.inFlight.size >= limit) return;
    // Retries whose time has come first, then new deliveries after the cursor, both read in index
    // order: a backlog of thousands costs no more to look at than an empty queue.
    const now = this.now();
    if (now.getTime() >= this.retriesCheckAt) {
      const wanted = limit - this.inFlight.size + this.retriesInFlight;
      const retries = this.options.messages.retriesDue(now.toISOString(), wanted);
      // A full page may have more behind it: look again at the next scan; otherwise not before
      // the next retry time this worker recorded, or the next poll.
      this.retryTimes = this.retryTimes.filter((at) => at > now.getTime());
      this.retriesCheckAt = retries.length >= wanted ? 0 : Math.min(...this.retryTimes);
      for (const delivery of retries) this.begin(delivery, true);
    }
    if (this.inFlight.size >= limit || !this.moreFresh) return;
    const wanted = limit - this.inFlight.size;
    const fresh = this.options.messages.freshDeliveries(this.cursor, wanted);
    this.moreFresh = fresh.length >= wanted;
    for (const delivery of fresh) {
      this.cursor = Math.max(this.cursor, delivery.delivery_seq);
      this.begin(delivery, false);
    }
  }

  /** Starts an attempt unless one for the same delivery is in flight or the worker is full. */
  private begin(delivery: DueDelivery, retry: boolean): void {
    const key = `${delivery.message_id}:${delivery.channel}`;
    if (this.inFlight.has(key) || this.inFlight.size >= (this.options.concurrency ?? 64)) return;
    const unrecorded = this.unrecorded.get(key);
    if (unrecorded?.attempt === delivery.attempts + 1 && unrecorded.notBefore > performance.now()) {
      return;
    }
    if (this.refused?.has(claimKeyOf(delivery)) === true) return;
    if (retry) this.retriesInFlight += 1;
    const attempt = this.attempt(delivery, key)
      .catch((error: unknown) => {
        // Recording failed (store trouble): the row stays due; the cursor goes back to it so
        // it is tried again.
        this.cursor = Math.min(this.cursor, delivery.delivery_seq - 1);
        this.moreFresh = true;
        this.retriesCheckAt = 0;
        this.options.logger.error('delivery attempt could not be recorded', { key, error });
      })
      .finally(() => {
        if (retry) this.retriesInFlight -= 1;
        this.inFlight.delete(key);
        this.queueScan();
      });
    this.inFlight.set(key, attempt);
  }

  /**
   * Sends the delivery and records the outcome; or, when an earlier send's outcome could not be
   * recorded, only records that outcome again (a push is never sent twice because the store
   * failed). A record that fails again waits longer each time before the next try.
   */
  private async attempt(delivery: DueDelivery, key: string): Promise<void> {
    // `channel` of a delivery is its target (`<kind>:<deviceId>`, domain/delivery/deliveryTarget.ts).
    const channel = this.options.channels.get(kindOfTarget(delivery.channel));
    const attempt = delivery.attempts + 1;
    const kept = this.unrecorded.get(key);
    // A kept outcome is for one attempt; if the queue has moved past it, its record did land
    // (the failure came after the append), and it must not be recorded as a later attempt.
    if (kept !== undefined && kept.attempt !== attempt) this.unrecorded.delete(key);
    const claims = this.options.claims;
    const claimKey = claimKeyOf(delivery);
    // An outcome kept from this node's own send is recorded without a new claim: it holds one.
    if (claims !== undefined && kept?.attempt !== attempt && !(await claims.claim(claimKey))) {
      this.refused?.add(claimKey);
      return;
    }
    const sent =
      kept?.attempt === attempt
        ? kept
        : ({
            outcome: await this.outcomeOf(channel, delivery),
            at: this.now(),
            attempt,
            failures: 0,
            notBefore: 0,
          } satisfies Unrecorded);
    try {
      await this.record(delivery, channel, sent.outcome, sent.at);
      this.unrecorded.delete(key);
      claims?.done(claimKey).catch((error: unknown) => {
        // The record is in the log: another node that claims the attempt after the hold finds
        // it recorded in its read model (or repeats it, with the same notification id).
        this.options.logger.warn('could not mark a delivery attempt done', { claimKey, error });
      });
    } catch (error) {
      const failures = sent.failures + 1;
      this.unrecorded.delete(key);
      this.unrecorded.set(key, {
        ...sent,
        failures,
        notBefore: performance.now() + Math.min(RECORD_RETRY_MAX_MS, 100 * 2 ** (failures - 1)),
      });
      // Bounded: the oldest entries go first (a Map iterates in insertion order).
      for (const stale of this.unrecorded.keys()) {
        if (this.unrecorded.size <= MAX_UNRECORDED) break;
        this.unrecorded.delete(stale);
      }
      throw error;
    }
  }

  /** What this attempt comes to: the channel's answer, unless there is nothing to send. */
  private async outcomeOf(
    channel: Channel | undefined,
    delivery: DueDelivery,
  ): Promise<SendOutcome> {
    if (channel === undefined) {
      return {
        kind: 'rejected',
        reason: `no channel of kind ${kindOfTarget(delivery.channel)} is installed`,
      };
    }
    const notWanted = this.noLongerWanted(delivery);
    return notWanted === undefined
      ? this.send(channel, delivery)
      : { kind: 'rejected', reason: notWanted };
  }

  /**
   * Why a retry must not reach the person's device any more, if the person or an operator changed
   * things since the router chose it: the binding and the app as they are now give the delivery
   * decision again (without the push budget, which this push already counted). Undefined for a
   * first attempt, which the router has just decided.
   */
  private noLongerWanted(delivery: DueDelivery): string | undefined {
    if (delivery.attempts === 0) return undefined;
    const binding = this.options.bindings.byId(delivery.binding_id);
    const app = this.options.apps.byId(delivery.app_id);
    const decision = decideDelivery({
      binding:
        binding === undefined
          ? { status: 'revoked', level: 'none', blocked: false }
          : {
              status: binding.status,
              level: binding.level,
              blocked: binding.blocked === 1,
              ...(binding.muted_until === null ? {} : { mutedUntil: binding.muted_until }),
            },
      app:
        app === undefined
          ? { status: 'banned' }
          : {
              status: app.status,
              ...(app.suspended_until === null ? {} : { suspendedUntil: app.suspended_until }),
            },
      deviceChannels: [delivery.channel],
      devicePushesLastHour: 0,
      pushBudgetPerHour: Number.POSITIVE_INFINITY,
      now: this.now().toISOString(),
    });
    if (decision.kind === 'suppress') return `not retried: ${decision.reason} since the routing`;
    if (decision.inboxOnly !== undefined)
      return `not retried: ${decision.inboxOnly} since the routing`;
    return undefined;
  }

  /** Records the outcome of one attempt as the Message aggregate's events. */
  private async record(
    delivery: DueDelivery,
    channel: Channel | undefined,
    outcome: SendOutcome,
    now: Date,
  ): Promise<void> {
    const attempt = delivery.attempts + 1;
    const metadata = { now: now.toISOString() };
    const { message_id: messageId, channel: target } = delivery;
    let commands: MessageCommand[];
    if (outcome.kind === 'delivered') {
      commands = [
        { type: 'RecordDelivery', data: { messageId, channel: target, attempt }, metadata },
      ];
    } else {
      const next =
        outcome.kind === 'failed'
          ? nextRetry(this.options.retry, attempt, now.getTime(), this.random, outcome.retryAfterMs)
          : ({ abandon: true } as const);
      const failed: MessageCommand = {
        type: 'RecordDeliveryFailure',
        data: {
          messageId,
          channel: target,
          attempt,
          error: outcome.reason,
          ...('retryAt' in next ? { retryAt: new Date(next.retryAt).toISOString() } : {}),
        },
        metadata,
      };
      if ('retryAt' in next) this.expectRetry(next.retryAt);
      commands =
        'retryAt' in next
          ? [failed]
          : [
              failed,
              {
                type: 'AbandonDelivery',
                data: { messageId, channel: target, attempts: attempt, lastError: outcome.reason },
                metadata,
              },
            ];
    }
    const result = await this.submit(messageId, {
      commands,
      commandId: `delivery:${messageId}:${target}:${attempt}`,
      // The message's creation time: the same for every repeat of this attempt's record.
      orderKey: Date.parse(delivery.created_at),
      // Every attempt follows from the routing that planned it (docs/audit.md, "Trail").
      cause: {
        ...(delivery.routed_by === null ? {} : { causationId: delivery.routed_by }),
        ...(delivery.correlation_id === null ? {} : { correlationId: delivery.correlation_id }),
      },
    });
    if (E.isLeft(result)) {
      if (result.left.code === 'conflict') throw new Error(result.left.message);
      if (
        outcome.kind === 'delivered' &&
        channel !== undefined &&
        result.left.details?.['state'] === 'recalled'
      ) {
        // The push left before the recall landed and arrived after it: take it back now, as the
        // recall stage did for the channels that had delivered by then.
        await this.withdraw(delivery);
        return;
      }
      this.options.logger.warn('delivery outcome refused', {
        messageId,
        channel: target,
        code: result.left.code,
      });
    }
  }

  /**
   * Records one attempt's commands together with the other attempts on the same message that
   * finished in the same turn of the event loop (a message's devices answer at about the same
   * time): one append and one projection row update for all of them instead of one each. If the
   * message refuses the batch, each attempt is recorded on its own, so one refusal (a recall that
   * landed meanwhile) is answered for the attempt it concerns and does not lose the others. The
   * decider takes a repeated record as a no-op, so a batch repeated differently after a crash
   * writes nothing twice.
   */
  private submit(messageId: string, record: Omit<PendingRecord, 'done'>): Promise<RecordResult> {
    return new Promise<RecordResult>((resolve, reject) => {
      const entry: PendingRecord = { ...record, done: { resolve, reject } };
      const waiting = this.pendingRecords.get(messageId);
      if (waiting !== undefined) {
        waiting.push(entry);
        return;
      }
      this.pendingRecords.set(messageId, [entry]);
      setImmediate(() => {
        const batch = this.pendingRecords.get(messageId) ?? [];
        this.pendingRecords.delete(messageId);
        void this.flush(messageId, batch);
      });
    });
  }

  private async flush(messageId: string, batch: readonly PendingRecord[]): Promise<void> {
    const execute = (records: readonly PendingRecord[]): Promise<RecordResult> =>
      this.options.commands.execute(
        'message',
        messageId,
        records.flatMap((record) => record.commands),
        {
          commandId: records.map((record) => record.commandId).join('+'),
          actor: { kind: 'system', id: 'delivery' },
          orderKey: Math.min(...records.map((record) => record.orderKey)),
          // Records of one message share its routing and its correlation.
          ...records[0]?.cause,
        },
      );
    try {
      const together = batch.length === 1 ? undefined : await execute(batch);
      if (together !== undefined && E.isRight(together)) {
        for (const record of batch) record.done.resolve(together);
        return;
      }
      for (const record of batch) {
        try {
          record.done.resolve(await execute([record]));
        } catch (error) {
          record.done.reject(error);
        }
      }
    } catch (error) {
      for (const record of batch) record.done.reject(error);
    }
  }

  private async send(channel: Channel, delivery: DueDelivery): Promise<SendOutcome> {
    const resolved = deviceOfTarget(this.options, delivery.recipient_id, delivery.channel);
    if (E.isLeft(resolved)) return { kind: 'rejected', reason: resolved.left };
    const { device } = resolved.right;
    const outcome = await sendToDevice(
      resolved.right,
      (_channel, settings) =>
        channel.render(
          outgoing(
            delivery,
            () => this.options.recipients.preferences(delivery.recipient_id).locale ?? 'en',
          ),
          settings,
        ),
      this.options.context,
    );
    if (outcome.kind === 'rejected' && outcome.code === 'device_unknown') {
      await markDeviceBroken(this.options.commands, this.options.logger, {
        recipientId: delivery.recipient_id,
        deviceId: device.deviceId,
        kind: channel.kind,
        fingerprint: device.fingerprint,
        reason: outcome.reason,
        now: this.now(),
      });
    }
    return outcome;
  }

  private async withdraw(delivery: DueDelivery): Promise<void> {
    this.options.logger.info('a push arrived after its message was recalled; withdrawing it', {
      messageId: delivery.message_id,
      channel: delivery.channel,
    });
    await withdrawFromDevice(
      this.options,
      delivery.channel,
      outgoing(delivery),
      this.options.context,
      this.options.logger,
    );
  }
}

/** The claim of one attempt of one delivery (see {@link AttemptClaims}). */
const claimKeyOf = (delivery: DueDelivery): string =>
  `delivery:${delivery.message_id}:${delivery.channel}:${delivery.attempts + 1}`;
