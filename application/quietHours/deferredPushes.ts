import * as E from 'fp-ts/lib/Either.js';
import type { MessageCommand } from '../../domain/message/messageCommands.js';
import type { Logger } from '../../domain/shared/logger.js';
import type {
  DeferredPushQueries,
  DeferredPushRow,
} from '../../projections/messages/deferredPushQueries.js';
import type { CommandBus } from '../commandBus.js';
import { forEachConcurrently } from '../processing/concurrency.js';
import type { DeliveryRouting } from '../routing/deliveryRouting.js';

/** What ending quiet hours needs. */
export interface DeferredPushesDeps {
  readonly commands: CommandBus;
  readonly deferred: DeferredPushQueries;
  /** The routing decision, shared with the router: a release counts against the push budget. */
  readonly routing: DeliveryRouting;
  readonly logger: Logger;
  /** Bindings' nights (each one summary) taken per tick; the next tick takes the rest. Default 500. */
  readonly batch?: number;
}

const ACTOR = { kind: 'system', id: 'quiet-hours' } as const;

/**
 * The rows of one binding and one night (the same end of quiet hours) together, in the order
 * they reached the inbox.
 */
const byBinding = (rows: readonly DeferredPushRow[]): DeferredPushRow[][] => {
  const groups = new Map<string, DeferredPushRow[]>();
  for (const row of rows) {
    const key = `${row.binding_id}\u0000${row.push_deferred_until}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
  }
  return [...groups.values()];
};

/**
 * The step of the scheduler's tick that ends quiet hours (docs/api.md "Preferences"): the device
 * pushes deferred until a time now past go out as one push per app — the latest message's own
 * push when it waited alone, else a summary of all that waited (`summaryOf`), the others merged
 * into it — decided again on the facts of now, so that an unbinding, a block or a mute meanwhile
 * drops them instead. A recall meanwhile took its message out already; a message the person read,
 * archived or complained about meanwhile is dropped as `seen`. The queue is the messages
 * read model, rebuilt from the log, so deferred pushes survive a restart; command ids derived
 * from the messages make each outcome happen once, and the aggregate refuses an early one.
 */
export const endQuietHours =
  (deps: DeferredPushesDeps) =>
  async (now: Date): Promise<void> => {
    const at = now.toISOString();
    const due = deps.deferred.due(at, deps.batch ?? 500);
    await forEachConcurrently(byBinding(due), 8, async (group) => {
      try {
        await endGroup(deps, group, now);
      } catch (error) {
        // One binding that cannot be served does not hold up the others.
        deps.logger.error('ending quiet hours failed for a binding; the next tick tries again', {
          bindingId: group[0]?.binding_id,
          error,
        });
      }
    });
  };

const endGroup = async (
  deps: DeferredPushesDeps,
  group: readonly DeferredPushRow[],
  now: Date,
): Promise<void> => {
  const at = now.toISOString();
  const metadata = { now: at };
  // What the person has seen in the inbox meanwhile needs no push, nor a place in a summary.
  for (const row of group.filter((row) => row.seen === 1)) {
    await record(deps, row.message_id, `push-drop:${row.message_id}`, {
      type: 'DropDeferredPush',
      data: { messageId: row.message_id, reason: 'seen' },
      metadata,
    });
  }
  const unseen = group.filter((row) => row.seen !== 1);
  const latest = unseen[unseen.length - 1];
  if (latest === undefined) return;
  const mergeInto = async (into: string, rows: readonly DeferredPushRow[]): Promise<void> => {
    for (const row of rows) {
      await record(deps, row.message_id, `push-merge:${row.message_id}`, {
        type: 'MergeDeferredPush',
        data: { messageId: row.message_id, into },
        metadata,
      });
    }
  };
  // This night's push of the binding already went out (a crash came before its merges): what
  // is left joins it instead of ringing the phone again.
  const earlier = deps.deferred.releasedFor(latest.binding_id, latest.push_deferred_until);
  if (earlier !== undefined) {
    await mergeInto(earlier, unseen);
    return;
  }
  const decision = await deps.routing.decideRelease(
    {
      messageId: latest.message_id,
      bindingId: latest.binding_id,
      appId: latest.app_id,
      recipientId: latest.recipient_id,
      ...(latest.level === null ? {} : { level: latest.level }),
    },
    now,
  );
  if (decision.kind === 'drop') {
    for (const row of unseen) {
      await record(deps, row.message_id, `push-drop:${row.message_id}`, {
        type: 'DropDeferredPush',
        data: { messageId: row.message_id, reason: decision.reason },
        metadata,
      });
    }
    return;
  }
  // The release first, then the merges into it: after a crash between the two, the next tick
  // finds the release (above). A latest message recalled meanwhile gives its place to the one
  // before it, so what waited is never merged into a push that does not go out.
  const waiting = [...unseen];
  for (let candidate = waiting.pop(); candidate !== undefined; candidate = waiting.pop()) {
    const summaryOf = waiting.length + 1;
    const result = await deps.commands.execute(
      'message',
      candidate.message_id,
      {
        type: 'ReleaseDeferredPush',
        data: {
          messageId: candidate.message_id,
          channels: [...decision.channels],
          ...(summaryOf > 1 ? { summaryOf } : {}),
        },
        metadata,
      },
      { commandId: `push-release:${candidate.message_id}`, actor: ACTOR },
    );
    if (E.isRight(result) || waiting.length === 0) decision.settle(result);
    if (E.isRight(result)) {
      await mergeInto(candidate.message_id, waiting);
      return;
    }
    deps.logger.debug('a deferred push was not released; the one before takes its place', {
      messageId: candidate.message_id,
      code: result.left.code,
    });
  }
};

/** Records one outcome; answers whether it is on record (now or before). */
const record = async (
  deps: DeferredPushesDeps,
  messageId: string,
  commandId: string,
  command: MessageCommand,
): Promise<boolean> => {
  const result = await deps.commands.execute('message', messageId, command, {
    commandId,
    actor: ACTOR,
  });
  if (E.isRight(result)) return true;
  // Recalled meanwhile, or ended another way: nothing of it to push.
  deps.logger.debug('a deferred push was not ended', { messageId, code: result.left.code });
  return false;
};
