import * as E from 'fp-ts/lib/Either.js';
import { appStreamName } from '../../domain/app/appDecider.js';
import type { ComplaintFiled, ComplaintUpheld } from '../../domain/complaint/complaintEvents.js';
import type { PenaltyLadder } from '../../domain/reputation/penaltyLadder.js';
import type { EventStore, Position, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Processor } from '../processing/processor.js';
import type { CommandBus } from '../commandBus.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { ReadModelDb } from '../../projections/readModelDb.js';
import { complaintQueries } from '../../projections/complaints/complaintQueries.js';
import { KeyedSerializer } from '../shared/keyedSerializer.js';
import { reactionContext } from '../processing/reaction.js';
import { loadState } from '../processing/streamState.js';
import type { StateCache } from '../../domain/shared/stateCache.js';

/** The automatic review rule: complaints from this many distinct people within the window. */
export interface SurgeRule {
  readonly enabled: boolean;
  readonly complainants: number;
  readonly windowHours: number;
}

const distinctPeople = (rows: readonly { recipient_id: string }[]): number =>
  new Set(rows.map((row) => row.recipient_id)).size;

export const defaultSurgeRule: SurgeRule = { enabled: true, complainants: 5, windowHours: 24 };

export interface ReputationProcessorOptions {
  readonly store: EventStore;
  /** The process's folded states (see StateCache); read-only loads use it too. */
  readonly cache?: StateCache;
  readonly commands: CommandBus;
  /** The read models, for the complaints a surge counts (through their query functions). */
  readonly db: ReadModelDb;
  readonly ladder: PenaltyLadder;
  readonly surge: SurgeRule;
  readonly logger: Logger;
  readonly now?: () => Date;
  /**
   * Resolves once the complaints read model includes the log up to a position: a surge is
   * counted there, and filings of one burst arrive together.
   */
  readonly complaintsAt?: (position: Position) => Promise<void>;
}

/**
 * The reputation policy: an upheld complaint costs its app points by the penalty ladder (and may
 * suspend or ban it, decided by the App aggregate on its current score); a surge of complaints
 * from distinct people suspends the app pending review without waiting for an operator. Every
 * App event it causes names the complaints behind it, so an auditor can follow a ban back to the
 * people's complaints. One app's events are handled one after another.
 */
export const reputationProcessor = (options: ReputationProcessorOptions): Processor => {
  const now = options.now ?? (() => new Date());
  const perApp = new KeyedSerializer();
  const complaints = complaintQueries(options.db);

  const penalize = async (recorded: RecordedEvent): Promise<void> => {
    const { complaintId, severity } = (recorded as unknown as ComplaintUpheld).data;
    const complaint = await loadState(options.store, 'complaint', complaintId, options.cache);
    if (complaint.status === 'empty') return;
    const { appId } = complaint.filing;
    await perApp.run(appId, async () => {
      const result = await options.commands.execute(
        'app',
        appId,
        {
          type: 'ApplyPenalty',
          data: { appId, complaintId, severity, ladder: options.ladder },
          metadata: { now: now().toISOString() },
        },
        reactionContext('reputation', recorded),
      );
      if (E.isLeft(result)) {
        if (result.left.code === 'conflict') throw new Error(result.left.message);
        options.logger.warn('penalty not applied', { appId, complaintId, code: result.left.code });
      }
    });
  };

  const checkSurge = async (recorded: RecordedEvent): Promise<void> => {
    if (!options.surge.enabled) return;
    const filing = (recorded as unknown as ComplaintFiled).data;
    const at = now();
    // Judged as of the filing, not of processing: the log is replayed from the start when the
    // server starts, and a replayed filing must not count complaints that came after it (an app
    // reinstated after a surge would be suspended again on every restart).
    const filedAt = recorded.metadata.occurredAt;
    const since = new Date(
      Date.parse(filedAt) - options.surge.windowHours * 3_600_000,
    ).toISOString();
    // The complaints read model is another runner: let it catch up with this filing, so the
    // filings of a burst (handled in one batch here) all count. This very complaint is counted in
    // by hand as well, in case the read model is not there (a rebuild of this processor alone).
    await options.complaintsAt?.(recorded.position);
    const candidates = [
      ...complaints.countingAgainst(filing.appId, since, filedAt),
      { complaint_id: filing.complaintId, recipient_id: filing.recipientId, filed_at: filedAt },
    ];
    if (distinctPeople(candidates) < options.surge.complainants) return;
    await perApp.run(filing.appId, async () => {
      // This filing already suspended the app once (a replay): an operator may have reinstated
      // it since, which must stand.
      const history = await options.store.readStream(appStreamName(filing.appId));
      if (history.some((event) => event.metadata.causationId === recorded.id)) return;
      // Complaints filed before the app was last reinstated or let back were part of that review:
      // they must not suspend it again on their own.
      const reviewedAt = history
        .filter(
          (event) =>
            (event.type === 'AppReinstated' || event.type === 'AppSuspensionLifted') &&
            event.metadata.occurredAt <= filedAt,
        )
        .at(-1)?.metadata.occurredAt;
      const rows = candidates.filter(
        (row) => reviewedAt === undefined || row.filed_at > reviewedAt,
      );
      const people = distinctPeople(rows);
      if (people < options.surge.complainants) return;
      const app = await loadState(options.store, 'app', filing.appId, options.cache);
      if (app.status !== 'active') return;
      const until = new Date(
        at.getTime() + options.ladder.suspensionDays * 86_400_000,
      ).toISOString();
      const result = await options.commands.execute(
        'app',
        filing.appId,
        {
          type: 'SuspendApp',
          data: {
            appId: filing.appId,
            until,
            reason: 'complaint_surge',
            complaintIds: [...new Set(rows.map((row) => row.complaint_id))],
          },
          metadata: { now: at.toISOString() },
        },
        reactionContext('reputation', recorded),
      );
      if (E.isLeft(result)) {
        if (result.left.code === 'conflict') throw new Error(result.left.message);
        options.logger.warn('surge suspension refused', {
          appId: filing.appId,
          code: result.left.code,
        });
      } else if (result.right.events.length > 0) {
        options.logger.warn('app suspended pending review: complaint surge', {
          appId: filing.appId,
          people,
        });
      }
    });
  };

  return {
    name: 'reputation',
    eventTypes: ['ComplaintUpheld', 'ComplaintFiled'],
    processBatch: async (batch) => {
      // In order: a surge and a penalty of one app must see each other's outcome.
      for (const event of batch) {
        if (event.type === 'ComplaintUpheld') await penalize(event);
        else await checkSurge(event);
      }
    },
  };
};
