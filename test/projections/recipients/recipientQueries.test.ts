import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { silentLogger } from '../../../adapters/logging/logger.js';
import { createCommandBus, type CommandBus } from '../../../application/commandBus.js';
import { loadState } from '../../../application/processing/streamState.js';
import { ProcessorRunner, projectionProcessor } from '../../../application/processing/processor.js';
import type { RecipientCommand } from '../../../domain/recipient/recipientCommands.js';
import { recipientStreamName } from '../../../domain/recipient/recipientDecider.js';
import { legacyBarkFingerprint } from '../../../domain/recipient/recipientDevices.js';
import { prepareProjection } from '../../../projections/projection.js';
import { recipientQueries } from '../../../projections/recipients/recipientQueries.js';
import { recipientsProjection } from '../../../projections/recipients/recipientsProjection.js';
import { appendAsBefore } from '../../support/olderEvents.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const recipientId = 'r-1';
const metadata = { now: '2025-03-01T12:00:00.000Z' };
const legacyAt = '2024-12-01T08:00:00.000Z';
const bark = { serverUrl: 'https://api.day.app', deviceKey: 'key-1' };
const ntfy = {
  recipientId,
  deviceId: 'dev_ntfy',
  kind: 'ntfy',
  name: 'Phone',
  settings: { serverUrl: 'https://ntfy.sh', topic: 'alice', priority: 3, markdown: false },
  secrets: { token: 'v1.sealed' },
  fingerprint: 'fp-1',
};

describe('recipientQueries: the devices read model', () => {
  let temp: TempStore;
  let runner: ProcessorRunner;
  let commands: CommandBus;
  let counter = 0;

  /** Runs commands on the person's account and waits until the read model has them. */
  const run = async (...batch: readonly RecipientCommand[]): Promise<void> => {
    for (const command of batch) {
      counter += 1;
      const result = await commands.execute('recipient', recipientId, command, {
        commandId: `test-${counter}`,
        actor: { kind: 'system', id: 'test' },
      });
      if (E.isLeft(result)) throw new Error(result.left.message);
      if (result.right.position !== undefined) await runner.waitFor(result.right.position);
    }
  };
  const legacy = async (...events: readonly { type: string; data: unknown }[]): Promise<void> => {
    await runner.waitFor(
      await appendAsBefore(temp.store, recipientStreamName(recipientId), events, legacyAt),
    );
  };
  /** The read model's devices match the aggregate's, but for the time of adding. */
  const expectSameAsAggregate = async (): Promise<void> => {
    const state = await loadState(temp.store, 'recipient', recipientId);
    const aggregate = state.status === 'active' ? state.devices : [];
    const read = recipientQueries(temp.db)
      .devices(recipientId)
      .map(({ createdAt: _createdAt, ...device }) => device);
    expect(read).to.deep.equal(aggregate.map(({ addedAt: _addedAt, ...device }) => device));
  };

  beforeEach(async () => {
    temp = openTempStore();
    prepareProjection(temp.db, recipientsProjection);
    runner = new ProcessorRunner(
      temp.store,
      temp.checkpoints,
      projectionProcessor(temp.db, temp.checkpoints, recipientsProjection),
      silentLogger,
    );
    runner.start();
    commands = createCommandBus({ store: temp.store });
    await run({
      type: 'RegisterRecipient',
      data: { recipientId, username: 'alice', passwordHash: 'scrypt$abc' },
      metadata,
    });
  });
  afterEach(async () => {
    await runner.stop();
    await temp.dispose();
  });

  it('answers no device for a person without one, or without an account', () => {
    const queries = recipientQueries(temp.db);
    expect(queries.devices(recipientId)).to.deep.equal([]);
    expect(queries.devices('nobody')).to.deep.equal([]);
    expect(queries.device('nobody', 'bark')).to.equal(undefined);
  });

  it('reads a legacy Bark device as the device `bark`, added when its first event was', async () => {
    await legacy({ type: 'RecipientBarkDeviceSet', data: { recipientId, ...bark } });
    const queries = recipientQueries(temp.db);
    expect(queries.devices(recipientId)).to.deep.equal([
      {
        deviceId: 'bark',
        kind: 'bark',
        name: 'Bark',
        settings: { serverUrl: bark.serverUrl },
        secrets: {},
        clearSecrets: { deviceKey: bark.deviceKey },
        fingerprint: legacyBarkFingerprint(bark.serverUrl, bark.deviceKey),
        createdAt: legacyAt,
      },
    ]);
    expect(Object.keys(queries.byId(recipientId) ?? {}).sort()).to.deep.equal([
      'password_hash',
      'recipient_id',
      'registered_at',
      'username',
    ]);
    await expectSameAsAggregate();
  });

  it('keeps settings of every type, secrets sealed, and the order of adding', async () => {
    await legacy({ type: 'RecipientBarkDeviceSet', data: { recipientId, ...bark } });
    await run({ type: 'AddDevice', data: ntfy, metadata });
    const queries = recipientQueries(temp.db);
    expect(queries.devices(recipientId).map((d) => d.deviceId)).to.deep.equal(['bark', 'dev_ntfy']);
    expect(queries.device(recipientId, 'dev_ntfy')).to.deep.include({
      settings: ntfy.settings,
      secrets: ntfy.secrets,
      clearSecrets: {},
      createdAt: metadata.now,
    });
    await expectSameAsAggregate();
  });

  it('follows broken, saved again, legacy broken and removed, as the aggregate does', async () => {
    await legacy(
      { type: 'RecipientBarkDeviceSet', data: { recipientId, ...bark } },
      { type: 'RecipientBarkDeviceBroken', data: { recipientId, deviceKey: 'other', reason: 'x' } },
    );
    await run(
      { type: 'AddDevice', data: ntfy, metadata },
      {
        type: 'MarkDeviceBroken',
        data: { recipientId, deviceId: 'dev_ntfy', fingerprint: 'fp-1', reason: 'gone' },
        metadata,
      },
    );
    const queries = recipientQueries(temp.db);
    expect(queries.device(recipientId, 'dev_ntfy')?.broken).to.equal('gone');
    expect(queries.device(recipientId, 'bark')?.broken).to.equal(undefined);
    await expectSameAsAggregate();
    await legacy({
      type: 'RecipientBarkDeviceBroken',
      data: { recipientId, deviceKey: bark.deviceKey, reason: 'failed to get device token' },
    });
    const { recipientId: _r, kind: _k, ...saved } = ntfy;
    await run({
      type: 'UpdateDevice',
      data: { recipientId, ...saved, name: 'Work' },
      metadata,
    });
    expect(queries.device(recipientId, 'bark')?.broken).to.equal('failed to get device token');
    expect(queries.device(recipientId, 'dev_ntfy')).to.deep.include({ name: 'Work' });
    expect(queries.device(recipientId, 'dev_ntfy')?.broken).to.equal(undefined);
    await expectSameAsAggregate();
    await legacy({ type: 'RecipientBarkDeviceRemoved', data: { recipientId } });
    await run({ type: 'RemoveDevice', data: { recipientId, deviceId: 'dev_ntfy' }, metadata });
    expect(queries.devices(recipientId)).to.deep.equal([]);
  });
});
