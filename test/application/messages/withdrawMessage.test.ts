import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { withdrawMessage } from '../../../application/messages/withdrawMessage.js';
import type { MessageQueries } from '../../../projections/messages/messageQueries.js';
import type { MessageRow } from '../../../projections/messages/messagesProjection.js';
import { callAt, fakeCommands } from './fakes.js';

const NOW = '2026-05-01T10:00:00.000Z';

const messagesWith = (status: string, appId = 'app_1'): MessageQueries =>
  ({
    byId: (id: string) =>
      id === 'msg_1'
        ? ({ message_id: 'msg_1', app_id: appId, status, deliver_at: null } as MessageRow)
        : undefined,
  }) as unknown as MessageQueries;

const typesOf = (executed: readonly { command: unknown }[]): string[] =>
  executed.map((entry) => (entry.command as { type: string }).type);

describe('withdrawMessage: the use case behind DELETE /v1/messages/:id', () => {
  it('cancels a message not delivered yet', async () => {
    const commands = fakeCommands();
    const withdraw = withdrawMessage({ commands, messages: messagesWith('submitted') });
    expect(await withdraw('app_1', 'msg_1', callAt(NOW))).to.deep.equal(E.right('cancelled'));
    expect(typesOf(commands.executed)).to.deep.equal(['CancelMessage']);
  });

  it('recalls a delivered message', async () => {
    const commands = fakeCommands();
    const withdraw = withdrawMessage({ commands, messages: messagesWith('delivered') });
    expect(await withdraw('app_1', 'msg_1', callAt(NOW))).to.deep.equal(E.right('recalled'));
    expect(typesOf(commands.executed)).to.deep.equal(['RecallMessage']);
  });

  it('recalls when the aggregate refuses the cancel as delivered, although the read model lags', async () => {
    const commands = fakeCommands((command) =>
      command.type === 'CancelMessage'
        ? E.left({
            code: 'illegal_state',
            message: 'delivered already',
            details: { state: 'delivered' },
          })
        : E.right({ status: 'recalled' }),
    );
    const withdraw = withdrawMessage({ commands, messages: messagesWith('submitted') });
    expect(await withdraw('app_1', 'msg_1', callAt(NOW))).to.deep.equal(E.right('recalled'));
    expect(typesOf(commands.executed)).to.deep.equal(['CancelMessage', 'RecallMessage']);
  });

  it("answers another app's message like a missing one, without a command", async () => {
    const commands = fakeCommands();
    const withdraw = withdrawMessage({ commands, messages: messagesWith('submitted', 'app_2') });
    const other = await withdraw('app_1', 'msg_1', callAt(NOW));
    expect(other).to.deep.equal(E.left({ code: 'not_found', message: 'no message msg_1' }));
    expect(await withdraw('app_1', 'msg_9', callAt(NOW))).to.deep.equal(
      E.left({ code: 'not_found', message: 'no message msg_9' }),
    );
    expect(commands.executed).to.deep.equal([]);
  });
});
