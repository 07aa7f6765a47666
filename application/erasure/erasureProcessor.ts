import * as E from 'fp-ts/lib/Either.js';
import { hash } from 'node:crypto';
import type { CommandBus } from '../commandBus.js';
import type { RecipientErased } from '../../domain/recipient/recipientEvents.js';
import { recipientStreamName } from '../../domain/recipient/recipientDecider.js';
import { erasePersonalData, personalEventTypes } from '../../domain/recipient/personalData.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import { digestOf } from '../../domain/shared/hashChain.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import type { BindingQueries } from '../../projections/bindings/bindingQueries.js';
import type { Reactor } from '../processing/processor.js';
import { reactionContext } from '../processing/reaction.js';
import type { ErasableLog } from './erasableLog.js';

/** Events one RecipientDataErased lists at most: one erasure of a busy person writes several. */
export const EVENTS_PER_RECORD = 2_000;

/**
 * Rounds of finding and erasing before giving up: each round erases what the one before found,
 * and only events written meanwhile (a message in flight as the bindings were revoked) make
 * another round find anything, so two rounds are the rule.
 */
const MAX_ROUNDS = 10;

export interface ErasureProcessorDeps {
  readonly log: ErasableLog;
  /** Waits for every read model after each write: the bindings read model, for one, must know
   * the revocations before any later push is judged. */
  readonly commands: CommandBus;
  readonly bindings: Pick<BindingQueries, 'activeForRecipient'>;
  readonly cache?: StateCache;
  readonly logger: Logger;
}

/**
 * Carries out a deleted account's erasure (docs/audit.md, "Erasure"): revokes the person's
 * bindings, so their apps get 410, then erases their personal data from the log. Each round
 * finds the events of the person's streams (their account, the messages addressed to them, the
 * complaints they wrote) whose data still holds personal fields, records their positions
 * (RecipientDataErased, so the chain's verifier knows), waits until every read model has erased
 * its own copy (on this node: with several nodes, each node's read models erase theirs as they
 * reach the record), and rewrites the events' data, wiping the old bytes from the database files
 * as far as the log's database allows (docs/audit.md, "No bytes left").
 * Personal data written about a deleted person later still (a delivery's error, a moderation
 * verdict's reason on a message that was in flight) is erased the same way when the processor
 * reaches it. A crash at any point repeats the work on restart (the checkpoint has not moved),
 * and every step is idempotent: a revoked binding stays revoked, erased data erases to itself.
 */
export const erasureProcessor = (deps: ErasureProcessorDeps): Reactor => {
  /** The persons deleted, read from the log at the first event (then kept up to date). */
  let deleted: Set<string> | undefined;
  return {
    name: 'erasure',
    eventTypes: ['RecipientErased', ...personalEventTypes],
    handle: async (recorded: RecordedEvent) => {
      deleted ??= new Set(await deps.log.erasedRecipients());
      if (recorded.type !== 'RecipientErased') {
        if (deleted.size > 0) await eraseLate(deps, deleted, recorded);
        return;
      }
      const { recipientId } = recorded.data as RecipientErased['data'];
      deleted.add(recipientId);
      const revoked = await revokeBindings(deps, recipientId, recorded);
      const erased = await eraseData(deps, recipientId, recorded);
      deps.logger.info("erased a deleted person's data", {
        recipientId,
        bindingsRevoked: revoked,
        eventsErased: erased,
      });
    },
  };
};

/**
 * Erases an event with personal data about a person deleted before it was written, and whatever
 * else of its stream still holds some (read afresh: the event handed over may be older than a
 * rewrite).
 */
const eraseLate = async (
  deps: ErasureProcessorDeps,
  deleted: ReadonlySet<string>,
  recorded: RecordedEvent,
): Promise<void> => {
  if (erasePersonalData(recorded.type, recorded.data as Record<string, unknown>) === undefined) {
    return;
  }
  const { recipientId } = recorded.data as { readonly recipientId?: unknown };
  const about =
    typeof recipientId === 'string' ? recipientId : await deps.log.recipientOf(recorded.stream);
  if (about === undefined || !deleted.has(about)) return;
  const changes = await changesIn(deps.log, [recorded.stream]);
  const erased = await eraseChanges(deps, about, changes, recorded);
  if (erased > 0) {
    deps.logger.info("erased a deleted person's data written after the deletion", {
      recipientId: about,
      stream: recorded.stream,
      eventsErased: erased,
    });
  }
};

const revokeBindings = async (
  deps: ErasureProcessorDeps,
  recipientId: string,
  cause: RecordedEvent,
): Promise<number> => {
  const bindings = deps.bindings.activeForRecipient(recipientId);
  for (const { binding_id: bindingId } of bindings) {
    orThrow(
      await deps.commands.execute(
        'binding',
        bindingId,
        {
          type: 'RevokeBinding',
          data: { bindingId, recipientId },
          metadata: { now: nowOf(cause) },
        },
        reactionContext('erasure', cause, `revoke:${bindingId}`),
      ),
    );
  }
  return bindings.length;
};

const eraseData = async (
  deps: ErasureProcessorDeps,
  recipientId: string,
  cause: RecordedEvent,
): Promise<number> => {
  let erased = 0;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const changes = await changesIn(deps.log, await personalStreamsOf(deps.log, recipientId));
    if (changes.length === 0) return erased;
    erased += await eraseChanges(deps, recipientId, changes, cause);
  }
  throw new Error(
    `the erasure of ${recipientId} still found personal data after ${MAX_ROUNDS} rounds`,
  );
};

interface Change {
  readonly position: number;
  readonly stream: string;
  /** The event's data with its personal fields erased. */
  readonly data: unknown;
}

/** Records the erasure of these events (in records of up to 2,000), then rewrites them. */
const eraseChanges = async (
  deps: ErasureProcessorDeps,
  recipientId: string,
  changes: readonly Change[],
  cause: RecordedEvent,
): Promise<number> => {
  for (let start = 0; start < changes.length; start += EVENTS_PER_RECORD) {
    const chunk = changes.slice(start, start + EVENTS_PER_RECORD);
    const events = chunk.map(({ position, data }) => ({
      position,
      // Of the text the store keeps (both stores' rewrites write JSON.stringify's).
      dataDigest: digestOf(JSON.stringify(data)).toString('hex'),
    }));
    // Named by what it lists: repeated after a crash, the same list is the same record, and
    // what a repeat finds left to erase is a new one.
    const listed = hash(
      'sha256',
      events.map(({ position, dataDigest }) => `${position}:${dataDigest}`).join(','),
      'base64url',
    ).slice(0, 22);
    orThrow(
      await deps.commands.execute(
        'recipient',
        recipientId,
        {
          type: 'RecordDataErased',
          data: { recipientId, events },
          metadata: { now: nowOf(cause) },
        },
        reactionContext('erasure', cause, `data:${listed}`),
      ),
    );
    await deps.log.rewrite(chunk);
  }
  for (const stream of new Set(changes.map(({ stream }) => stream))) deps.cache?.delete(stream);
  return changes.length;
};

/** The streams that may hold a person's data: their account, messages to them, their complaints. */
const personalStreamsOf = async (
  log: ErasableLog,
  recipientId: string,
): Promise<readonly string[]> => [
  recipientStreamName(recipientId),
  ...(await log.streamsWith('MessageSubmitted', 'recipientId', recipientId)),
  ...(await log.streamsWith('ComplaintFiled', 'recipientId', recipientId)),
];

/** The events of `streams` whose data still holds personal fields, with the data erased. */
const changesIn = async (log: ErasableLog, streams: readonly string[]): Promise<Change[]> => {
  const changes = [];
  for (const event of await log.eventsOf(streams, personalEventTypes)) {
    const data = erasePersonalData(event.type, event.data);
    if (data !== undefined) changes.push({ position: event.position, stream: event.stream, data });
  }
  return changes;
};

/** The erasure's commands are decided at the time of the deletion, however late they run. */
const nowOf = (cause: RecordedEvent): string => cause.metadata.occurredAt;

const orThrow = <L extends { readonly message: string }, R>(result: E.Either<L, R>): R => {
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};
