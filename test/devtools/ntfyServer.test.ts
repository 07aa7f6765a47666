import { expect } from 'chai';
import { startNtfyServer, type NtfyStandIn } from '../../devtools/ntfyServer.js';

// The stand-in must answer like ntfy, or the channel tests prove nothing. Loopback only.

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown> | undefined;
}

const call = async (
  base: string,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> => {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'POST',
    redirect: 'manual',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
};

const publishJson = (base: string, value: unknown, headers: Record<string, string> = {}) =>
  call(base, '/', { body: JSON.stringify(value), headers });

describe('ntfy-server stand-in', () => {
  let ntfy: NtfyStandIn;

  before(async () => {
    ntfy = await startNtfyServer();
  });
  after(() => ntfy.close());
  beforeEach(() => {
    ntfy.reset();
  });

  it('listens on 127.0.0.1 and answers its health route', async () => {
    expect(ntfy.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await call(ntfy.url, '/v1/health', { method: 'GET' });
    expect([answer.status, answer.json]).to.deep.equal([200, { healthy: true }]);
  });

  it('answers a JSON publish with the message: id, time, expires, event, fields', async () => {
    const answer = await publishJson(ntfy.url, {
      topic: 'alerts',
      message: 'Disk low',
      title: 'Server',
      priority: 4,
      tags: ['warning'],
      click: 'https://x.example',
      unknown: 'ignored',
    });
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('content-type')).to.equal('application/json');
    expect(answer.text.endsWith('\n')).to.equal(true);
    const json = answer.json ?? {};
    expect(json['id']).to.match(/^[A-Za-z0-9]{12}$/);
    expect(json['expires']).to.equal(Number(json['time']) + 12 * 3600);
    expect(json).to.deep.include({
      event: 'message',
      topic: 'alerts',
      message: 'Disk low',
      title: 'Server',
      priority: 4,
      tags: ['warning'],
      click: 'https://x.example',
    });
    expect(json).to.not.have.property('sequence_id');
    expect(json).to.not.have.property('unknown');
    expect(ntfy.requests[0]?.json).to.deep.include({ topic: 'alerts' });
  });

  it('joins JSON tags with "," and splits them again, trimmed and without empty ones, as ntfy does', async () => {
    const answer = await publishJson(ntfy.url, {
      topic: 'alerts',
      message: 'x',
      tags: ['Acme, Inc.', ' spaced ', '', 'a,,b'],
    });
    expect(answer.json?.['tags']).to.deep.equal(['Acme', 'Inc.', 'spaced', 'a', 'b']);
    const none = await publishJson(ntfy.url, { topic: 'alerts', message: 'x', tags: [','] });
    expect(none.json).to.not.have.property('tags');
  });

  it('publishes the header form, with aliases, RFC 2047 titles and a sequence id in the path', async () => {
    const answer = await call(ntfy.url, '/alerts/job-1', {
      body: 'Backup done',
      headers: { Title: '=?UTF-8?B?5bel5Y2V?=', p: 'high', Tags: 'a, b', Click: 'https://c' },
    });
    expect(answer.json).to.deep.include({
      sequence_id: 'job-1',
      title: '工单',
      priority: 4,
      tags: ['a', 'b'],
      click: 'https://c',
      message: 'Backup done',
    });
    const quoted = await call(ntfy.url, '/alerts', {
      body: 'x',
      headers: { 'X-Title': '=?UTF-8?Q?=C3=84pfel?=', 'X-Sequence-ID': 'job-2' },
    });
    expect(quoted.json).to.deep.include({ title: 'Äpfel', sequence_id: 'job-2' });
    const empty = await call(ntfy.url, '/alerts', { body: '' });
    expect(empty.json).to.deep.include({ message: 'triggered' });
  });

  it('updates a notification in place by sequence id, and deletes and clears it', async () => {
    await publishJson(ntfy.url, { topic: 't', message: 'one', sequence_id: 's1' });
    await publishJson(ntfy.url, { topic: 't', message: 'other' });
    await publishJson(ntfy.url, { topic: 't', message: 'two', sequence_id: 's1' });
    expect(ntfy.notificationsOf('t').map((n) => n.message.message)).to.deep.equal(['two', 'other']);
    const deleted = await call(ntfy.url, '/t/s1', { method: 'DELETE' });
    expect(deleted.json).to.deep.include({
      event: 'message_delete',
      topic: 't',
      sequence_id: 's1',
    });
    expect(ntfy.notificationsOf('t').map((n) => n.message.message)).to.deep.equal(['other']);
    const otherId = ntfy.notificationsOf('t')[0]?.sequenceId ?? '';
    const cleared = await call(ntfy.url, `/t/${otherId}/clear`, { method: 'PUT' });
    expect(cleared.json).to.deep.include({ event: 'message_clear' });
    expect(ntfy.notificationsOf('t')).to.deep.equal([]);
    expect(ntfy.messagesOf('t').map((m) => m.event)).to.deep.equal([
      'message',
      'message',
      'message',
      'message_delete',
      'message_clear',
    ]);
  });

  it('refuses bad topics, sequence ids, priorities and JSON with ntfy’s codes', async () => {
    const cases: [Promise<Answer>, number, number, string][] = [
      [publishJson(ntfy.url, { topic: 'a b' }), 400, 40009, 'invalid request: topic invalid'],
      [
        publishJson(ntfy.url, { topic: 'docs' }),
        400,
        40010,
        'invalid request: topic name is not allowed',
      ],
      [
        publishJson(ntfy.url, { topic: 't', sequence_id: 'a:b' }),
        400,
        40049,
        'invalid request: sequence ID invalid',
      ],
      [
        publishJson(ntfy.url, { topic: 't', priority: 7 }),
        400,
        40007,
        'invalid priority parameter',
      ],
      [
        call(ntfy.url, '/', { body: '[1]' }),
        400,
        40017,
        'invalid request: request body must be message JSON',
      ],
      [call(ntfy.url, '/a/b/c/d'), 404, 40401, 'page not found'],
      [call(ntfy.url, '/t/x', { method: 'GET' }), 404, 40401, 'page not found'],
    ];
    for (const [pending, status, code, error] of cases) {
      const answer = await pending;
      expect(answer.status, error).to.equal(status);
      expect(answer.json).to.deep.include({ code, http: status, error });
    }
  });

  it('turns an oversized message into an attachment, or refuses it without attachments', async () => {
    const big = 'x'.repeat(4097);
    const answer = await publishJson(ntfy.url, { topic: 't', message: big });
    expect(answer.json).to.deep.include({ message: 'You received a file: attachment.txt' });
    expect(answer.json?.['attachment']).to.deep.include({ name: 'attachment.txt', size: 4097 });
    const fits = await publishJson(ntfy.url, { topic: 't', message: 'x'.repeat(4096) });
    expect(fits.json?.['attachment']).to.equal(undefined);
    const strict = await startNtfyServer({ attachments: false });
    try {
      const refused = await publishJson(strict.url, { topic: 't', message: big });
      expect(refused.json).to.deep.include({ code: 40014, http: 400 });
    } finally {
      await strict.close();
    }
  });

  it('checks tokens first (401) and topic access after (403)', async () => {
    const locked = await startNtfyServer({
      auth: { defaultAccess: 'deny-all', tokens: { tk_good: ['mine'] } },
    });
    try {
      const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
      const unknown = await call(locked.url, '/a/b/c/d', { headers: bearer('tk_bad') });
      expect(unknown.json).to.deep.include({ code: 40101, http: 401, error: 'unauthorized' });
      const anonymous = await publishJson(locked.url, { topic: 'mine' });
      expect(anonymous.json).to.deep.include({ code: 40301, http: 403 });
      const elsewhere = await publishJson(locked.url, { topic: 'theirs' }, bearer('tk_good'));
      expect(elsewhere.status).to.equal(403);
      const deleteElsewhere = await call(locked.url, '/theirs/s', {
        method: 'DELETE',
        headers: bearer('tk_good'),
      });
      expect(deleteElsewhere.status).to.equal(403);
      expect((await publishJson(locked.url, { topic: 'mine' }, bearer('tk_good'))).status).to.equal(
        200,
      );
      const notAToken = await publishJson(locked.url, { topic: 'mine' }, bearer('constructor'));
      expect(notAToken.status).to.equal(401);
    } finally {
      await locked.close();
    }
  });

  it('answers 429 past the burst, with Retry-After only when configured', async () => {
    const limited = await startNtfyServer({ rateLimit: { burst: 2, retryAfterSeconds: 7 } });
    const bare = await startNtfyServer({ rateLimit: { burst: 0 } });
    try {
      const statuses: number[] = [];
      let last: Answer | undefined;
      for (let i = 0; i < 3; i += 1) {
        last = await publishJson(limited.url, { topic: 't' });
        statuses.push(last.status);
      }
      expect(statuses).to.deep.equal([200, 200, 429]);
      expect(last?.json).to.deep.include({ code: 42901 });
      expect(last?.headers.get('retry-after')).to.equal('7');
      const refused = await publishJson(bare.url, { topic: 't' });
      expect([refused.status, refused.headers.get('retry-after')]).to.deep.equal([429, null]);
      limited.reset();
      expect((await publishJson(limited.url, { topic: 't' })).status).to.equal(200);
    } finally {
      await limited.close();
      await bare.close();
    }
  });

  it('plays scripts: failTimes, respond, raw bodies and extra headers, and records every request', async () => {
    ntfy.failTimes(1);
    ntfy.failTimes(1, { status: 302, rawBody: '', headers: { Location: 'https://elsewhere/' } });
    const first = await publishJson(ntfy.url, { topic: 't' });
    expect([first.status, first.json?.['error']]).to.deep.equal([503, 'Service Unavailable']);
    const second = await publishJson(ntfy.url, { topic: 't' });
    expect([second.status, second.headers.get('location')]).to.deep.equal([
      302,
      'https://elsewhere/',
    ]);
    expect((await publishJson(ntfy.url, { topic: 't' })).status).to.equal(200);
    ntfy.respond({ status: 500, error: 'boom' });
    expect((await publishJson(ntfy.url, { topic: 't' })).json).to.deep.include({ error: 'boom' });
    expect(ntfy.requests).to.have.length(4);
    expect(ntfy.messagesOf('t')).to.have.length(1);
  });

  it('holds answers back when told to', async () => {
    ntfy.delay(120);
    const started = Date.now();
    await publishJson(ntfy.url, { topic: 't' });
    expect(Date.now() - started).to.be.at.least(100);
  });
});
