import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  submitMessage,
  type SubmitMessageDeps,
} from '../../../application/messages/submitMessage.js';
import type { RateDecision } from '../../../application/shared/rateLimiter.js';
import type { BindingRow } from '../../../projections/bindings/bindingsProjection.js';
import type { BindingQueries } from '../../../projections/bindings/bindingQueries.js';
import type { MessageQueries } from '../../../projections/messages/messageQueries.js';
import type { MessageRow } from '../../../projections/messages/messagesProjection.js';
import { callAt, fakeCommands, fakeIds } from './fakes.js';

const NOW = '2026-05-01T10:00:00.000Z';
const app = { appId: 'app_1', status: 'active' as const };

const binding = (appId: string): BindingRow =>
  ({
    binding_id: 'bnd_1',
    app_id: appId,
    recipient_id: 'rcp_1',
    openid: 'o-1',
    level: 'strong',
    blocked: 0,
    status: 'active',
  }) as BindingRow;

/** The use case over fakes: one binding of `owner` (key `k`, openid `o-1`), no messages yet. */
const setUp = (options: { owner?: string; rate?: RateDecision; known?: string[] } = {}) => {
  const commands = fakeCommands();
  const taken: string[] = [];
  const row = binding(options.owner ?? 'app_1');
  const bindings = {
    byKeyHash: (hash: string) => (hash === 'hash(k)' ? row : undefined),
    byAppAndOpenid: (appId: string, openid: string) =>
      appId === row.app_id && openid === row.openid ? row : undefined,
  } as unknown as BindingQueries;
  const messages = {
    byId: (id: string) => (options.known?.includes(id) === true ? ({} as MessageRow) : undefined),
  } as unknown as MessageQueries;
  const deps: SubmitMessageDeps = {
    commands,
    bindings,
    messages,
    ids: fakeIds,
    appRateLimit: {
      take: (key) => {
        taken.push(key);
        return options.rate ?? { allowed: true };
      },
    },
  };
  return { submit: submitMessage(deps), commands, taken };
};

describe('submitMessage: the use case behind POST /v1/messages', () => {
  it('submits to the binding the key names, with a fresh id and a fresh command id', async () => {
    const { submit, commands, taken } = setUp();
    const answer = await submit(app, { body: 'hello', key: 'k' }, callAt(NOW));
    expect(answer).to.deep.equal(E.right({ messageId: 'msg_ordered', status: 'accepted' }));
    expect(taken).to.deep.equal(['app_1']);
    expect(commands.executed).to.have.length(1);
    const [executed] = commands.executed;
    expect(executed?.context.commandId).to.equal('fresh');
    expect(executed?.command).to.deep.include({ type: 'SubmitMessage' });
    expect((executed?.command as { data: unknown }).data).to.deep.include({
      messageId: 'msg_ordered',
      appId: 'app_1',
      bindingId: 'bnd_1',
      recipientId: 'rcp_1',
      body: 'hello',
      binding: { status: 'active', level: 'strong', blocked: false },
      app: { status: 'active' },
    });
  });

  it('names the same message and command on every attempt of a repeatable request, and counts a delay from the first', async () => {
    const { submit, commands } = setUp();
    const identity = { key: 'idem', since: '2026-05-01T09:00:00.000Z', item: 2 };
    const answer = await submit(
      app,
      { body: 'later', openid: 'o-1', delaySeconds: 60 },
      callAt(NOW),
      identity,
    );
    const messageId = 'msg_derived(app_1,idem,2026-05-01T09:00:00.000Z,item,2)';
    expect(answer).to.deep.equal(E.right({ messageId, status: 'scheduled' }));
    const [executed] = commands.executed;
    expect(executed?.context.commandId).to.equal(`submit:${messageId}`);
    expect((executed?.command as { data: { deliverAt: string } }).data.deliverAt).to.equal(
      '2026-05-01T09:01:00.000Z',
    );
  });

  it('refuses a draft with both key and openid, or a time in the past, without a command or a token', async () => {
    const { submit, commands, taken } = setUp();
    const answer = await submit(
      app,
      { body: 'x', key: 'k', openid: 'o-1', deliverAt: '2026-04-30T00:00:00.000Z' },
      callAt(NOW),
    );
    expect(answer).to.deep.equal(
      E.left({
        code: 'validation_failed',
        message: '/key give exactly one of key or openid; /deliverAt is in the past',
        details: {
          errors: [
            { path: '/key', message: 'give exactly one of key or openid' },
            { path: '/deliverAt', message: 'is in the past' },
          ],
        },
      }),
    );
    expect(commands.executed).to.deep.equal([]);
    expect(taken).to.deep.equal([]);
  });

  it('answers rate_limited with the wait when the app has no token left', async () => {
    const { submit, commands } = setUp({ rate: { allowed: false, retryAfterSeconds: 7 } });
    const answer = await submit(app, { body: 'x', key: 'k' }, callAt(NOW));
    expect(answer).to.deep.equal(
      E.left({
        code: 'rate_limited',
        message: 'too many messages from this app',
        retryAfterSeconds: 7,
      }),
    );
    expect(commands.executed).to.deep.equal([]);
  });

  it('takes no token for a retry of a message already taken', async () => {
    const identity = { key: 'idem', since: NOW };
    const { submit, taken } = setUp({
      rate: { allowed: false, retryAfterSeconds: 7 },
      known: [`msg_derived(app_1,idem,${NOW})`],
    });
    const answer = await submit(app, { body: 'x', key: 'k' }, callAt(NOW), identity);
    expect(E.isRight(answer)).to.equal(true);
    expect(taken).to.deep.equal([]);
  });

  it("answers another app's binding key exactly like an unknown key", async () => {
    const { submit, commands } = setUp({ owner: 'app_2' });
    const other = await submit(app, { body: 'x', key: 'k' }, callAt(NOW));
    const unknown = await submit(app, { body: 'x', key: 'nope' }, callAt(NOW));
    expect(other).to.deep.equal(E.left({ code: 'not_found', message: 'no binding has this key' }));
    expect(unknown).to.deep.equal(other);
    expect(commands.executed).to.deep.equal([]);
  });
});
