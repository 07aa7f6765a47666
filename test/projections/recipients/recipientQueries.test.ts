import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { silentLogger } from '../../../adapters/logging/logger.js';
import { createCommandBus, type CommandBus } from '../../../application/commandBus.js';
import { ProcessorRunner, projectionProcessor } from '../../../application/processing/processor.js';
import type { RecipientCommand } from '../../../domain/recipient/recipientCommands.js';
import { prepareProjection } from '../../../projections/projection.js';
import { recipientQueries } from '../../../projections/recipients/recipientQueries.js';
import { recipientsProjection } from '../../../projections/recipients/recipientsProjection.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const recipientId = 'r-1';
const metadata = { now: '2025-03-01T12:00:00.000Z' };
const bark = { serverUrl: 'https://api.day.app', deviceKey: 'key-1' };

describe('recipientQueries: the devices view of the recipients read model', () => {
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
  });

  it('answers a Bark device as kind and settings, and its account without device columns', async () => {
    await run({ type: 'SetBarkDevice', data: { recipientId, ...bark }, metadata });
    const queries = recipientQueries(temp.db);
    expect(queries.devices(recipientId)).to.deep.equal([{ kind: 'bark', settings: bark }]);
    expect(Object.keys(queries.byId(recipientId) ?? {}).sort()).to.deep.equal([
      'password_hash',
      'recipient_id',
      'registered_at',
      'username',
    ]);
  });

  it('answers the device the generic command marked broken as broken, until it is set again', async () => {
    const reason = 'HTTP 400: failed to get device token';
    await run(
      { type: 'SetBarkDevice', data: { recipientId, ...bark }, metadata },
      {
        type: 'MarkDeviceBroken',
        data: { recipientId, kind: 'bark', settings: bark, reason },
        metadata,
      },
    );
    const queries = recipientQueries(temp.db);
    expect(queries.devices(recipientId)).to.deep.equal([
      { kind: 'bark', settings: bark, broken: reason },
    ]);
    await run({ type: 'SetBarkDevice', data: { recipientId, ...bark }, metadata });
    expect(queries.devices(recipientId)).to.deep.equal([{ kind: 'bark', settings: bark }]);
    await run({ type: 'RemoveBarkDevice', data: { recipientId }, metadata });
    expect(queries.devices(recipientId)).to.deep.equal([]);
  });
});
