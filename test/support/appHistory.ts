import * as E from 'fp-ts/lib/Either.js';
import { handleCommand, type AggregateHandle } from '../../domain/shared/commandHandler.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import { appDecider, appStreamName, type AppState } from '../../domain/app/appDecider.js';
import { AppEventCodec, type AppEvent } from '../../domain/app/appEvents.js';
import type { AppCommand } from '../../domain/app/appCommands.js';

const appAggregate: AggregateHandle<AppCommand, AppEvent, AppState> = {
  decider: appDecider,
  eventCodec: AppEventCodec,
};

/**
 * Writes a varied, realistic App history through the real command handler: registrations,
 * secret rotations, penalties, suspensions (lifted or not), bans and reinstatements.
 */
export const writeAppHistory = async (store: EventStore, apps: number): Promise<void> => {
  const at = (minute: number): string => new Date(Date.UTC(2026, 10, 1, 0, minute)).toISOString();
  let sequence = 0;
  const run = async (command: AppCommand): Promise<void> => {
    sequence += 1;
    const result = await handleCommand(
      store,
      appAggregate,
      appStreamName(command.data.appId),
      command,
      {
        commandId: `history-${sequence}`,
        actor: { kind: 'operator', id: 'history' },
      },
    );
    if (E.isLeft(result)) throw new Error(`${command.type}: ${result.left.message}`);
  };
  for (let index = 0; index < apps; index += 1) {
    const appId = `app-${String(index).padStart(4, '0')}`;
    await run({
      type: 'RegisterApp',
      data: {
        appId,
        name: `应用 ${index}`,
        redirectUris: [`https://app${index}.example/cb`],
        secretHash: `s-${appId}`,
      },
      metadata: { now: at(index) },
    });
    if (index % 2 === 0) {
      await run({
        type: 'RotateAppSecret',
        data: { appId, secretHash: `s2-${appId}` },
        metadata: { now: at(index + 1) },
      });
    }
    for (let p = 0; p < index % 5; p += 1) {
      await run({
        type: 'PenalizeApp',
        data: { appId, points: 10, complaintIds: [`${appId}-c${p}`], reason: 'upheld' },
        metadata: { now: at(index + 2 + p) },
      });
    }
    if (index % 3 === 0) {
      await run({
        type: 'SuspendApp',
        data: {
          appId,
          until: at(index + 10_000),
          reason: 'score_below_threshold',
          complaintIds: [],
        },
        metadata: { now: at(index + 8) },
      });
      if (index % 6 === 0) {
        await run({
          type: 'LiftAppSuspension',
          data: { appId, reason: 'expired', scoreAfter: 60 },
          metadata: { now: at(index + 20_000) },
        });
      }
    }
    if (index % 7 === 0) {
      await run({
        type: 'BanApp',
        data: { appId, reason: 'operator', complaintIds: [] },
        metadata: { now: at(index + 30_000) },
      });
      if (index % 14 === 0) {
        await run({
          type: 'ReinstateApp',
          data: { appId, note: 'appeal granted' },
          metadata: { now: at(index + 40_000) },
        });
      }
    }
  }
};
