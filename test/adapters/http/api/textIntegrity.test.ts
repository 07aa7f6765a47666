import { expect } from 'chai';
import {
  errorPaths,
  expectNoNewEvents,
  expectProblem,
  type CreatedApp,
} from '../../../support/httpFixtures.js';
import {
  bindWithoutDevice,
  createPipelineApp,
  inboxOf,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
} from '../../../support/pipeline.js';
import { call, type Reply, type TestServer } from '../../../support/testServer.js';

/**
 * Issue 12, item 4: text that is not well-formed Unicode (a lone surrogate escape, bytes that are
 * not UTF-8) is refused naming the field, never stored as U+FFFD; a U+FFFD really sent is kept.
 */
describe('HTTP API: text is stored as sent or refused', function () {
  this.timeout(30_000);
  let server: TestServer;
  let app: CreatedApp;
  let who: BoundPerson;

  before(async () => {
    server = await startPipelineServer();
    app = await createPipelineApp(server, 'Text app');
    who = await bindWithoutDevice(server, app, { level: 'weak' });
  });
  after(async () => {
    await server.dispose();
  });

  /** Posts raw bytes as an app's JSON body. */
  const postRaw = (path: string, body: Buffer): Promise<Reply> =>
    fetchReply(`${server.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.appSecret}`, 'content-type': 'application/json' },
      body,
    });

  /** `{"openid": …, <fields>}` as bytes, with `raw` spliced in where `@` stands in `template`. */
  const message = (template: string, raw: Buffer = Buffer.alloc(0)): Buffer => {
    const [before = '', after = ''] = template.split('@');
    return Buffer.concat([
      Buffer.from(`{"openid":${JSON.stringify(who.openid)},${before}`),
      raw,
      Buffer.from(`${after}}`),
    ]);
  };

  it('refuses a lone surrogate escape with 400 validation_failed naming the field, writing nothing', async () => {
    const reply = await expectNoNewEvents(server.tidings, () =>
      postRaw('/v1/messages', message('"title":"broken \\udfff","body":"hello"')),
    );
    const problem = expectProblem(reply, 400, 'validation_failed');
    expect(errorPaths(problem)).to.deep.equal(['/title']);
  });

  it('refuses raw bytes that are not UTF-8 with 400 validation_failed naming the field', async () => {
    for (const bytes of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const reply = await expectNoNewEvents(server.tidings, () =>
        postRaw('/v1/messages', message('"body":"before @ after"', Buffer.from(bytes))),
      );
      const problem = expectProblem(reply, 400, 'validation_failed');
      expect(errorPaths(problem), JSON.stringify(bytes)).to.deep.equal(['/body']);
    }
  });

  it('names the item and field of a batch: /messages/3/body', async () => {
    const items = [0, 1, 2, 3, 4].map((index) =>
      Buffer.from(`{"openid":${JSON.stringify(who.openid)},"body":"item ${index}`),
    );
    const body = Buffer.concat([
      Buffer.from('{"messages":['),
      ...items.flatMap((item, index) => [
        ...(index > 0 ? [Buffer.from(',')] : []),
        item,
        ...(index === 3 ? [Buffer.of(0xfe)] : []),
        Buffer.from('"}'),
      ]),
      Buffer.from(']}'),
    ]);
    const reply = await expectNoNewEvents(server.tidings, () =>
      postRaw('/v1/messages/batch', body),
    );
    const problem = expectProblem(reply, 400, 'validation_failed');
    expect(errorPaths(problem)).to.include('/messages/3/body');
    expect(errorPaths(problem)).to.not.include('/messages/2/body');
  });

  it('accepts U+FFFD the app really sent, raw or escaped, and stores it as sent', async () => {
    const raw = await postRaw(
      '/v1/messages',
      message('"title":"raw @","body":"escaped \\ufffd"', Buffer.from('\uFFFD')),
    );
    expect(raw.status, JSON.stringify(raw.body)).to.equal(202);
    const items = await waitUntil(
      () => inboxOf(server, who.person),
      (inbox) => inbox.some((item) => item.messageId === raw.body['messageId']),
      'the message in the inbox',
    );
    const stored = items.find((item) => item.messageId === raw.body['messageId']);
    expect(stored?.title).to.equal('raw \uFFFD');
    expect(stored?.body).to.equal('escaped \uFFFD');
  });

  it('refuses a query parameter whose escapes are not UTF-8, naming it under /query', async () => {
    const bad = await call(server.base, 'GET', '/v1/bindings?openid=%ED%A0%80', {
      token: app.appSecret,
    });
    expect(errorPaths(expectProblem(bad, 400, 'validation_failed'))).to.deep.equal([
      '/query/openid',
    ]);
    const inbox = await call(server.base, 'GET', '/v1/me/inbox?thread=order%ff', {
      cookie: who.person.cookie,
    });
    expect(errorPaths(expectProblem(inbox, 400, 'validation_failed'))).to.deep.equal([
      '/query/thread',
    ]);
    // The same parameter, well formed, is looked up as sent.
    const found = await call<{ openid: string }>(
      server.base,
      'GET',
      `/v1/bindings?openid=${encodeURIComponent(who.openid)}`,
      { token: app.appSecret },
    );
    expect(found.status, JSON.stringify(found.body)).to.equal(200);
    expect(found.body.openid).to.equal(who.openid);
  });
});

/** Like `call`, for a body `call` cannot send (raw bytes). */
const fetchReply = async (url: string, init: RequestInit): Promise<Reply> => {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    body: (text.length > 0 ? JSON.parse(text) : {}) as Record<string, unknown>,
    headers: response.headers,
  };
};
