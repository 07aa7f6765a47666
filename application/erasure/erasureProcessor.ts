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
 * its own copy, and rewrites the events' data, wiping the old bytes from the database files. A
 * crash at any point repeats the work on restart (the checkpoint has not moved), and every step
 * is idempotent: a revoked binding stays revoked, erased data erases to itself.
 */
export const erasureProcessor = (deps: ErasureProcessorDeps): Reactor => ({
  name: 'erasure',
  eventTypes: ['RecipientErased'],
  handle: async (recorded: RecordedEvent) => {
    const { recipientId } = recorded.data as RecipientErased['data'];
    const revoked = await revokeBindings(deps, recipientId, recorded);
    const erased = await eraseData(deps, recipientId, recorded);
    deps.logger.info("erased a deleted person's data", {
      recipientId,
      bindingsRevoked: revoked,
      eventsErased: erased,
    });
  },
});

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
    const changes = personalDataOf(deps.log, recipientId);
    if (changes.length === 0) return erased;
    for (let start = 0; start < changes.length; start += EVENTS_PER_RECORD) {
      const chunk = changes.slice(start, start + EVENTS_PER_RECORD);
      const events = chunk.map(({ position, data }) => ({
        position,
        // Of the text the store keeps (adapters/sqlite/dataErasure.ts writes JSON.stringify's).
        dataDigest: digestOf(JSON.stringify(data)).toString('hex'),
      }));
      // Named by what it lists: repeated after a crash, the same list is the same record, and
      // what a repeat finds left to erase is a new one.
      const listed = hash(
        'sha256',
        events.map(({ position }) => position).join(','),
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
      deps.log.rewrite(chunk);
    }
    for (const stream of new Set(changes.map(({ stream }) => stream))) deps.cache?.delete(stream);
    erased += changes.length;
  }
  throw new Error(
    `the erasure of ${recipientId} still found personal data after ${MAX_ROUNDS} rounds`,
  );
};

/** The person's events whose data still holds personal fields, with the data erased. */
const personalDataOf = (
  log: ErasableLog,
  recipientId: string,
): { readonly position: number; readonly stream: string; readonly data: unknown }[] => {
  const streams = [
    recipientStreamName(recipientId),
    ...log.streamsWith('MessageSubmitted', 'recipientId', recipientId),
    ...log.streamsWith('ComplaintFiled', 'recipientId', recipientId),
  ];
  const changes = [];
  for (const event of log.eventsOf(streams, personalEventTypes)) {
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
