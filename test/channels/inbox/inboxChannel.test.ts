import { expect } from 'chai';
import { silentLogger } from '../../../adapters/logging/logger.js';
import type { ChannelContext } from '../../../channels/channel.js';
import type { HttpClient } from '../../../channels/httpClient.js';
import { inboxChannel } from '../../../channels/inbox/inboxChannel.js';

/** An HTTP client that records, and fails, anything the inbox channel would send. */
const attempted: unknown[] = [];
const noHttp: HttpClient = {
  request: (request) => {
    attempted.push(request.url);
    return Promise.resolve({
      kind: 'failed',
      code: 'ERR_TEST',
      message: 'the inbox channel must not do I/O',
    });
  },
};

const context: ChannelContext = { http: noHttp, logger: silentLogger, now: () => new Date(0) };

describe('inbox channel', () => {
  it('is kind inbox and declares no settings', () => {
    expect(inboxChannel.kind).to.equal('inbox');
    expect(inboxChannel.settings).to.deep.equal([]);
    expect('renderRecall' in inboxChannel).to.equal(false);
  });

  it('renders the message and recipient it is about', () => {
    const rendered = inboxChannel.render(
      {
        messageId: 'msg-1',
        appId: 'app-1',
        appName: 'Repairs Desk',
        recipientId: 'rcp-1',
        body: 'hello',
      },
      {},
    );
    expect(rendered).to.deep.equal({ messageId: 'msg-1', recipientId: 'rcp-1' });
  });

  it('answers delivered without any I/O: the router already recorded it', async () => {
    const outcome = await inboxChannel.send({ messageId: 'msg-1', recipientId: 'rcp-1' }, context);
    expect(outcome).to.deep.equal({ kind: 'delivered' });
    expect(attempted).to.deep.equal([]);
  });
});
