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
  /** Deferred pushes taken per tick; the next tick takes the rest. Default 2,000. */
  readonly batch?: number;
}

const ACTOR = { kind: 'system', id: 'quiet-hours' } as const;

/** The rows of one binding together, in the order they reached the inbox. */
const byBinding = (rows: readonly DeferredPushRow[]): DeferredPushRow[][] => {
  const groups = new Map<string, DeferredPushRow[]>();
  for (const row of rows) {
    const group = groups.get(row.binding_id);
    if (group === undefined) groups.set(row.binding_id, [row]);
    else group.push(row);
  }
  return [...groups.values()];
};

/**
 * The step of the scheduler's tick that ends quiet hours (docs/api.md "Preferences"): the device
 * pushes deferred until a time now past go out as one push per app — the latest message's own
 * push when it waited alone, else a summary of all that waited (`summaryOf`), the others merged
 * into it — decided again on the facts of now, so that an unbinding, a block or a mute meanwhile
 * drops them instead. A recall meanwhile took its message out already. The queue is the messages
 * read model, rebuilt from the log, so deferred pushes survive a restart; command ids derived
 * from the messages make each outcome happen once, and the aggregate refuses an early one.
 */
export const endQuietHours =
  (deps: DeferredPushesDeps) =>
  async (now: Date): Promise<void> => {
    const at = now.toISOString();
    const due = deps.deferred.due(at, deps.batch ?? 2_000);
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
  const latest = group[group.length - 1];
  if (latest === undefined) return;
  const at = now.toISOString();
  const metadata = { now: at };
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
    for (const row of group) {
      await record(deps, row.message_id, `push-drop:${row.message_id}`, {
        type: 'DropDeferredPush',
        data: { messageId: row.message_id, reason: decision.reason },
        metadata,
      });
    }
    return;
  }
  // The others first: after a crash between the two, the latest is still waiting and its
  // summary counts what was merged into it before (the read model keeps `push_merged_into`).
  const merged = new Set(deps.deferred.mergedInto(latest.message_id));
  for (const row of group.slice(0, -1)) {
    const done = await record(deps, row.message_id, `push-merge:${row.message_id}`, {
      type: 'MergeDeferredPush',
      data: { messageId: row.message_id, into: latest.message_id },
      metadata,
    });
    if (done) merged.add(row.message_id);
  }
  merged.delete(latest.message_id);
  const summaryOf = merged.size + 1;
  const result = await deps.commands.execute(
    'message',
    latest.message_id,
    {
      type: 'ReleaseDeferredPush',
      data: {
        messageId: latest.message_id,
        channels: [...decision.channels],
        ...(summaryOf > 1 ? { summaryOf } : {}),
      },
      metadata,
    },
    { commandId: `push-release:${latest.message_id}`, actor: ACTOR },
  );
  decision.settle(result);
  if (E.isLeft(result)) {
    deps.logger.warn('a deferred push was not released', {
      messageId: latest.message_id,
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
