import cron, { type ScheduledTask } from 'node-cron';
import * as E from 'fp-ts/lib/Either.js';
import type { MessageQueries } from '../../projections/messages/messageQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { ReadModelDb } from '../../projections/readModelDb.js';
import { appQueries, type AppQueries } from '../../projections/apps/appQueries.js';
import { forEachConcurrently } from '../processing/concurrency.js';

export interface SchedulerOptions {
  readonly commands: CommandBus;
  readonly messages: MessageQueries;
  /** The read models, for the apps' suspensions (through their query functions). */
  readonly db: ReadModelDb;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** The least score an app has when its suspension ends (the penalty ladder's recovery); default: unchanged. */
  readonly recoverTo?: number;
  /** Extra work for each tick (e.g. pruning expired idempotency records). */
  readonly onTick?: (now: Date) => void;
  /**
   * More steps of each tick (quiet hours ending, digests), each run on its own after the
   * built-in ones: one that fails is logged and tried again on the next tick.
   */
  readonly steps?: readonly SchedulerStep[];
}

/** A step of the scheduler's tick: `what` names it in the log. */
export interface SchedulerStep {
  readonly what: string;
  readonly run: (now: Date) => Promise<void>;
}

/**
 * The clock of the pipeline, ticking every second (node-cron): releases scheduled messages whose
 * time has come and lifts app suspensions that have run out. Its queues are read models rebuilt
 * from the log, so it survives restarts; the aggregates refuse an early release, and command ids
 * derived from the message make each release happen once even if two ticks overlap a restart.
 */
export class Scheduler {
  private task: ScheduledTask | undefined;
  private ticking: Promise<void> | undefined;
  private readonly now: () => Date;
  private readonly apps: AppQueries;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    this.apps = appQueries(options.db);
  }

  start(): void {
    if (this.task !== undefined) return;
    this.task = cron.schedule('* * * * * *', () => {
      void this.tick();
    });
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = undefined;
    await this.ticking;
  }

  /** One tick; a tick that starts while the previous one runs joins it instead of overlapping. */
  tick(): Promise<void> {
    this.ticking ??= this.run().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async run(): Promise<void> {
    const now = this.now();
    const at = now.toISOString();
    // Each step on its own: a release that keeps failing must not stop suspensions from being
    // lifted, nor one app's lift the others'.
    await this.guarded('releasing due messages', () => this.releaseDue(at));
    for (const app of this.guardedRead(() => this.apps.suspensionsEndedBy(at))) {
      await this.guarded(`lifting the suspension of ${app.app_id}`, () =>
        this.liftSuspension(app, at),
      );
    }
    for (const step of this.options.steps ?? []) {
      await this.guarded(step.what, () => step.run(now));
    }
    await this.guarded('the tick hook', () => {
      this.options.onTick?.(now);
      return Promise.resolve();
    });
  }

  private async releaseDue(at: string): Promise<void> {
    const due = this.options.messages.due(at, 1_000);
    await forEachConcurrently(due, 16, async (row) => {
      try {
        const result = await this.options.commands.execute(
          'message',
          row.message_id,
          { type: 'ReleaseMessage', data: { messageId: row.message_id }, metadata: { now: at } },
          { commandId: `release:${row.message_id}`, actor: { kind: 'system', id: 'scheduler' } },
        );
        if (E.isLeft(result))
          this.options.logger.warn('release refused', {
            messageId: row.message_id,
            code: result.left.code,
          });
      } catch (error) {
        // One message that cannot be released does not hold up the others.
        this.options.logger.error('releasing a message failed; the next tick tries again', {
          messageId: row.message_id,
          error,
        });
      }
    });
  }

  private async liftSuspension(
    app: { app_id: string; suspended_until: string },
    at: string,
  ): Promise<void> {
    const result = await this.options.commands.execute(
      'app',
      app.app_id,
      {
        type: 'LiftAppSuspension',
        data: {
          appId: app.app_id,
          reason: 'expired',
          ...(this.options.recoverTo === undefined ? {} : { recoverTo: this.options.recoverTo }),
        },
        metadata: { now: at },
      },
      {
        commandId: `lift:${app.app_id}:${app.suspended_until}`,
        actor: { kind: 'system', id: 'scheduler' },
      },
    );
    if (E.isLeft(result))
      this.options.logger.warn('lifting a suspension refused', {
        appId: app.app_id,
        code: result.left.code,
      });
  }

  /** Runs one step of a tick; a failure is logged and the next tick tries again. */
  private async guarded(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.options.logger.error(`scheduler: ${what} failed; the next tick tries again`, { error });
    }
  }

  /** A read for a tick; a failure is logged and reads as nothing to do. */
  private guardedRead<T>(read: () => readonly T[]): readonly T[] {
    try {
      return read();
    } catch (error) {
      this.options.logger.error('scheduler: a read failed; the next tick tries again', { error });
      return [];
    }
  }
}
