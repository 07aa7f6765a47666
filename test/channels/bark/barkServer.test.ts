import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';

// The stand-in must answer like bark-server, or the channel tests prove nothing. Loopback only.

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown> | undefined;
}

const call = async (
  base: string,
  path: string,
  init: { method?: string; json?: unknown; body?: string; type?: string; auth?: string } = {},
): Promise<Answer> => {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
  if (init.type !== undefined) headers['content-type'] = init.type;
  if (init.auth !== undefined) headers['authorization'] = init.auth;
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'POST',
    headers,
    ...(init.json !== undefined
      ? { body: JSON.stringify(init.json) }
      : init.body !== undefined
        ? { body: init.body }
        : {}),
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

describe('bark-server stand-in', () => {
  let bark: BarkStandIn;

  before(async () => {
    bark = await startBarkServer({ devices: ['key1', 'key2'] });
  });
  after(() => bark.close());
  beforeEach(() => {
    bark.reset();
  });

  it('listens on 127.0.0.1', () => {
    expect(bark.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers success with the envelope, status = code, JSON, Server: Bark', async () => {
    const answer = await call(bark.url, '/push', { json: { device_key: 'key1', body: 'hi' } });
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('content-type')).to.equal('application/json');
    expect(answer.headers.get('server')).to.equal('Bark');
    expect(Object.keys(answer.json ?? {})).to.deep.equal(['code', 'message', 'timestamp']);
    expect(answer.json).to.include({ code: 200, message: 'success' });
    expect(answer.json?.['timestamp']).to.be.a('number');
  });

  it('refuses an empty or missing device key, then an unknown one, like route_push.go', async () => {
    for (const json of [
      { body: 'x' },
      { device_key: '', body: 'x' },
      { device_key: 7, body: 'x' },
    ]) {
      const answer = await call(bark.url, '/push', { json });
      expect(answer.status).to.equal(400);
      expect(answer.json).to.include({ code: 400, message: 'device key is empty' });
    }
    const unknown = await call(bark.url, '/push', { json: { device_key: 'nope', body: 'x' } });
    expect(unknown.status).to.equal(400);
    expect(unknown.json).to.include({
      code: 400,
      message: 'failed to get device token: failed to get [nope] device token from database',
    });
  });

  it('answers 400 request bind failed for a body that is not a JSON object', async () => {
    for (const body of ['{not json', '[1,2]', '']) {
      const answer = await call(bark.url, '/push', { body, type: 'application/json' });
      expect(answer.status, body).to.equal(400);
      expect(String(answer.json?.['message'])).to.match(/^request bind failed: /);
    }
  });

  it('substitutes "Empty Message" when title, subtitle and body are all empty', async () => {
    await call(bark.url, '/push', { json: { device_key: 'key1', id: 'e' } });
    expect(bark.notificationsOf('key1')[0]?.body).to.equal('Empty Message');
  });

  it('lets query arguments override the JSON body', async () => {
    await call(bark.url, '/push?body=from-query', {
      json: { device_key: 'key1', body: 'from-body' },
    });
    expect(bark.notificationsOf('key1')[0]?.body).to.equal('from-query');
  });

  it('serves the compatibility routes /:key/:title/:body', async () => {
    const answer = await call(bark.url, '/key1/Hello%20there/It+works', { method: 'GET' });
    expect(answer.status).to.equal(200);
    expect(bark.notificationsOf('key1')[0]).to.include({ title: 'Hello there', body: 'It works' });
  });

  it('answers fiber 404 envelopes for routes it does not have', async () => {
    const answer = await call(bark.url, '/a/b/c/d/e', { json: {} });
    expect(answer.status).to.equal(404);
    expect(answer.json).to.include({ code: 404, message: 'Cannot POST /a/b/c/d/e' });
  });

  it('replaces a notification with the same id and deletes one with delete "1"', async () => {
    await call(bark.url, '/push', { json: { device_key: 'key1', id: 'o-1', body: 'step 1' } });
    await call(bark.url, '/push', { json: { device_key: 'key1', id: 'o-1', body: 'step 2' } });
    await call(bark.url, '/push', { json: { device_key: 'key1', id: 'o-2', body: 'other' } });
    expect(bark.notificationsOf('key1').map((n) => n.body)).to.deep.equal(['step 2', 'other']);
    for (const flag of ['1', 1]) {
      const answer = await call(bark.url, '/push', {
        json: { device_key: 'key1', id: flag === 1 ? 'o-2' : 'o-1', delete: flag },
      });
      expect(answer.json).to.include({ code: 200, message: 'success' });
    }
    expect(bark.notificationsOf('key1')).to.deep.equal([]);
  });

  it('answers 500 push failed: PayloadTooLarge above 4096 bytes of APNs payload', async () => {
    const answer = await call(bark.url, '/push', {
      json: { device_key: 'key1', body: 'x'.repeat(4000) },
    });
    expect(answer.status).to.equal(500);
    expect(answer.json).to.include({ code: 500, message: 'push failed: PayloadTooLarge' });
  });

  it('answers a batch with one result per key in data', async () => {
    const answer = await call(bark.url, '/push', {
      json: { device_keys: ['key1', 'nope'], body: 'all hands' },
    });
    expect(answer.status).to.equal(200);
    expect(answer.json?.['data']).to.deep.equal([
      { code: 200, device_key: 'key1' },
      {
        message: 'failed to get device token: failed to get [nope] device token from database',
        code: 400,
        device_key: 'nope',
      },
    ]);
  });

  it('fails a key n times as scripted, then succeeds', async () => {
    bark.failTimes('key2', 2);
    const codes: unknown[] = [];
    for (let i = 0; i < 3; i += 1) {
      codes.push(
        (await call(bark.url, '/push', { json: { device_key: 'key2', body: 'x' } })).status,
      );
    }
    expect(codes).to.deep.equal([500, 500, 200]);
  });

  it('records every request, answered or not, and forgets them on reset', async () => {
    await call(bark.url, '/push', { json: { device_key: 'key1', body: 'x' } });
    await call(bark.url, '/nowhere/at/all/really/deep', { method: 'GET' });
    expect(bark.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      'POST /push',
      'GET /nowhere/at/all/really/deep',
    ]);
    bark.reset();
    expect(bark.requests).to.have.length(0);
  });

  it('answers 418 in plain text without the Basic auth credentials it was given', async () => {
    const locked = await startBarkServer({
      devices: ['k'],
      basicAuth: { user: 'u', password: 'p' },
    });
    try {
      const refused = await call(locked.url, '/push', { json: { device_key: 'k', body: 'x' } });
      expect(refused.status).to.equal(418);
      expect(refused.text).to.equal("I'm a teapot");
      const allowed = await call(locked.url, '/push', {
        json: { device_key: 'k', body: 'x' },
        auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
      });
      expect(allowed.status).to.equal(200);
    } finally {
      await locked.close();
    }
  });

  it('closes promptly while an answer is still held back', async () => {
    const slow = await startBarkServer({ devices: ['k'] });
    slow.delay('k', 60_000);
    const pending = call(slow.url, '/push', { json: { device_key: 'k', body: 'x' } }).catch(
      (error: unknown) => error,
    );
    while (slow.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await slow.close();
    expect(await pending).to.be.instanceOf(Error);
  });
});
