import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import {
  createGuardedHttpClient,
  type GuardedHttpClient,
  type GuardedHttpClientOptions,
} from '../../../adapters/outbound/guardedHttpClient.js';
import type { HttpResult } from '../../../channels/httpClient.js';

// Every request here goes to a server on 127.0.0.1 (or a closed port there), which the clients
// may reach only when their allowlist names it; host names go through injected resolvers, so no
// DNS query leaves the machine.

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** The routes of the test server; each answers the way its name says. */
const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
  switch (request.url) {
    case '/hello':
      response.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Tidings-Test': 'yes',
        'Set-Cookie': ['a=1', 'b=2'],
      });
      response.end('héllo');
      return;
    case '/missing':
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('no such thing');
      return;
    case '/busy':
      response.writeHead(503, { 'Retry-After': '7' });
      response.end('{"code":503,"message":"busy"}');
      return;
    case '/moved':
      response.writeHead(302, { Location: '/elsewhere' });
      response.end();
      return;
    case '/big':
      response.end('x'.repeat(500));
      return;
    case '/hang':
      return;
    case '/gzip':
      response.writeHead(200, { 'Content-Encoding': 'gzip' });
      response.end(request.method === 'HEAD' ? undefined : zlib.gzipSync('zipped text'));
      return;
    case '/deflate':
      response.writeHead(200, { 'Content-Encoding': 'deflate' });
      response.end(zlib.deflateSync('deflated text'));
      return;
    case '/deflate-raw':
      response.writeHead(200, { 'Content-Encoding': 'deflate' });
      response.end(zlib.deflateRawSync('raw deflated text'));
      return;
    case '/br':
      response.writeHead(200, { 'Content-Encoding': 'br' });
      response.end(zlib.brotliCompressSync('brotli text'));
      return;
    case '/no-content':
      response.writeHead(204, { 'Content-Encoding': 'gzip' });
      response.end();
      return;
    case '/bomb':
      // 60 bytes on the wire, 100 kB once decompressed.
      response.writeHead(200, { 'Content-Encoding': 'gzip' });
      response.end(zlib.gzipSync('x'.repeat(100_000)));
      return;
    case '/bom':
      response.end('\uFEFFhi');
      return;
    case '/twice':
      response.setHeader('Retry-After', ['7', '60']);
      response.setHeader('X-Many', ['one', 'two']);
      response.end();
      return;
    case '/slow-body': {
      // Each chunk comes well within the limit; the whole body takes about 2 s.
      response.writeHead(200, { 'Content-Length': '40' });
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        response.write('.');
        if (sent === 40) {
          clearInterval(timer);
          response.end();
        }
      }, 50);
      response.on('close', () => {
        clearInterval(timer);
      });
      return;
    }
    case '/cut':
      response.writeHead(200, { 'Content-Length': '1000' });
      response.write('only part of it');
      setTimeout(() => response.socket?.destroy(), 20);
      return;
    case '/hang-up':
      response.socket?.destroy();
      return;
    default:
      response.end(`${request.method ?? ''} ${request.url ?? ''}`);
  }
};

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
const closedPort = async (): Promise<number> => {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    probe.close(() => {
      resolve();
    });
  });
  return port;
};

describe('guarded HTTP client: the channels’ port on its guarded undici Agent', () => {
  let server: http.Server;
  let base: string;
  let received: Received[];
  const clients: GuardedHttpClient[] = [];
  const guarded = (options: GuardedHttpClientOptions): GuardedHttpClient => {
    const client = createGuardedHttpClient(options);
    clients.push(client);
    return client;
  };
  const loopback = guarded({ allowlist: parseAllowlist(['127.0.0.1']) });

  before(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        handle(request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
  });
  beforeEach(() => {
    received = [];
  });

  describe('answers', () => {
    it('gives status, headers (lower-case, repeats joined) and the body as text', async () => {
      const result = await loopback.request({ method: 'GET', url: `${base}/hello` });
      expect(result).to.deep.include({ kind: 'answered', status: 200, body: 'héllo' });
      const headers = result.kind === 'answered' ? result.headers : {};
      expect(headers).to.include({
        'content-type': 'text/plain; charset=utf-8',
        'x-tidings-test': 'yes',
        'set-cookie': 'a=1, b=2',
      });
    });

    it('sends the method, headers and body text as given, and no Content-Type it was not given', async () => {
      const json = await loopback.request({
        method: 'POST',
        url: `${base}/echo`,
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Key': 'k' },
        body: '{"body":"长"}',
      });
      expect(json).to.deep.include({ kind: 'answered', status: 200, body: 'POST /echo' });
      const plain = await loopback.request({ method: 'PUT', url: `${base}/plain`, body: 'raw' });
      expect(plain).to.deep.include({ kind: 'answered', status: 200 });
      const [first, second] = received;
      expect(first).to.deep.include({ method: 'POST', url: '/echo', body: '{"body":"长"}' });
      expect(first?.headers).to.include({
        'content-type': 'application/json; charset=utf-8',
        'x-key': 'k',
        'content-length': String(Buffer.byteLength('{"body":"长"}')),
      });
      expect(second).to.deep.include({ method: 'PUT', url: '/plain', body: 'raw' });
      expect(second?.headers).to.not.have.property('content-type');
    });

    it('answers a non-2xx status as an answer, with its headers and body', async () => {
      expect(await loopback.request({ method: 'GET', url: `${base}/missing` })).to.deep.include({
        kind: 'answered',
        status: 404,
        body: 'no such thing',
      });
      const busy = await loopback.request({ method: 'POST', url: `${base}/busy`, body: '{}' });
      expect(busy).to.deep.include({
        kind: 'answered',
        status: 503,
        body: '{"code":503,"message":"busy"}',
      });
      expect(busy.kind === 'answered' && busy.headers['retry-after']).to.equal('7');
    });

    it('does not follow a redirect: the 3xx is the answer, with its Location', async () => {
      const result = await loopback.request({ method: 'GET', url: `${base}/moved` });
      expect(result).to.deep.include({ kind: 'answered', status: 302 });
      expect(result.kind === 'answered' && result.headers['location']).to.equal('/elsewhere');
      expect(received.map((request) => request.url)).to.deep.equal(['/moved']);
    });

    it('decompresses gzip, deflate (with its zlib header or without) and br', async () => {
      for (const [path, text] of [
        ['/gzip', 'zipped text'],
        ['/deflate', 'deflated text'],
        ['/deflate-raw', 'raw deflated text'],
        ['/br', 'brotli text'],
      ] as const) {
        const result = await loopback.request({ method: 'GET', url: `${base}${path}` });
        expect(result, path).to.deep.include({ kind: 'answered', status: 200, body: text });
        expect(result.kind === 'answered' && result.headers, path).to.not.have.property(
          'content-encoding',
        );
      }
    });

    it('answers a HEAD or a 204 with no body, whatever its content-encoding', async () => {
      expect(await loopback.request({ method: 'HEAD', url: `${base}/gzip` })).to.deep.include({
        kind: 'answered',
        status: 200,
        body: '',
      });
      expect(await loopback.request({ method: 'GET', url: `${base}/no-content` })).to.deep.include({
        kind: 'answered',
        status: 204,
        body: '',
      });
    });

    it('drops a byte-order mark', async () => {
      expect(await loopback.request({ method: 'GET', url: `${base}/bom` })).to.deep.include({
        body: 'hi',
      });
    });

    it('keeps the first of a repeated header Node keeps once (Retry-After), joins other repeats', async () => {
      const result = await loopback.request({ method: 'GET', url: `${base}/twice` });
      expect(result.kind === 'answered' && result.headers).to.include({
        'retry-after': '7',
        'x-many': 'one, two',
      });
    });

    it('adds Accept, User-Agent and Accept-Encoding unless the request names them, in any case', async () => {
      await loopback.request({ method: 'GET', url: `${base}/defaults` });
      await loopback.request({
        method: 'GET',
        url: `${base}/own`,
        headers: { accept: 'text/plain', 'USER-AGENT': 'Mine/1.0', 'Accept-Encoding': 'identity' },
      });
      const [defaults, own] = received;
      expect(defaults?.headers).to.include({
        accept: 'application/json, text/plain, */*',
        'user-agent': 'Tidings',
        'accept-encoding': 'gzip, deflate, br',
        connection: 'keep-alive',
      });
      expect(own?.headers).to.include({
        accept: 'text/plain',
        'user-agent': 'Mine/1.0',
        'accept-encoding': 'identity',
      });
    });

    it('sends header values as a header can carry them: trimmed, without controls or characters beyond Latin-1', async () => {
      const result = await loopback.request({
        method: 'GET',
        url: `${base}/headers`,
        headers: {
          'X-Padded': '  spaced  ',
          'X-Wide': 'a日b',
          'X-Split': 'one\r\nX-Injected: yes',
        },
      });
      expect(result).to.deep.include({ kind: 'answered', status: 200 });
      expect(received[0]?.headers).to.include({
        'x-padded': 'spaced',
        'x-wide': 'ab',
        'x-split': 'oneX-Injected: yes',
      });
      expect(received[0]?.headers).to.not.have.property('x-injected');
    });
  });

  describe('refusals by the outbound guard', () => {
    it('refuses loopback without an allowlist, sending nothing', async () => {
      const strict = guarded({ allowlist: emptyAllowlist });
      const result = await strict.request({ method: 'POST', url: `${base}/push`, body: '{}' });
      expect(result).to.deep.include({ kind: 'refused', reason: 'loopback' });
      expect(result.kind === 'refused' && result.detail).to.match(/^127\.0\.0\.1 is a loopback/);
      expect(received).to.deep.equal([]);
    });

    it('refuses a private address without an allowlist, before connecting', async () => {
      const strict = guarded({ allowlist: emptyAllowlist });
      const result = await strict.request({ method: 'GET', url: 'http://10.0.0.5/' });
      expect(result).to.deep.equal({
        kind: 'refused',
        reason: 'private',
        detail:
          '10.0.0.5 is a private address; only hosts in TIDINGS_OUTBOUND_ALLOWLIST may use such addresses',
      });
    });

    it('refuses at connect time a name that now resolves to a forbidden address', async () => {
      // First answer (the pre-send check): a public address; the agent's own lookup: loopback.
      const answers = ['93.184.216.34', '127.0.0.1'];
      const rebinding = guarded({
        allowlist: emptyAllowlist,
        lookup: () => Promise.resolve([{ address: answers.shift() ?? '127.0.0.1', family: 4 }]),
      });
      const port = (server.address() as AddressInfo).port;
      const result = await rebinding.request({
        method: 'GET',
        url: `http://rebind.test:${port}/`,
      });
      expect(result).to.deep.include({ kind: 'refused', reason: 'loopback' });
      expect(received).to.deep.equal([]);
    });

    it('refuses at connect time over https too, before any TLS handshake', async () => {
      const answers = ['93.184.216.34', '127.0.0.1'];
      const rebinding = guarded({
        allowlist: emptyAllowlist,
        lookup: () => Promise.resolve([{ address: answers.shift() ?? '127.0.0.1', family: 4 }]),
      });
      const port = (server.address() as AddressInfo).port;
      const result = await rebinding.request({
        method: 'GET',
        url: `https://rebind.test:${port}/`,
      });
      expect(result).to.deep.include({ kind: 'refused', reason: 'loopback' });
      expect(received).to.deep.equal([]);
    });

    it('keeps a host name that does not resolve distinguishable: unresolvable', async () => {
      const noDns = guarded({
        allowlist: emptyAllowlist,
        lookup: () => Promise.resolve([]),
      });
      expect(await noDns.request({ method: 'GET', url: 'http://bark.invalid/' })).to.deep.equal({
        kind: 'refused',
        reason: 'unresolvable',
        detail: 'the host name bark.invalid does not resolve to any address',
      });
    });

    it('refuses what is not an http(s) URL', async () => {
      expect(await loopback.request({ method: 'GET', url: 'ftp://127.0.0.1/' })).to.deep.include({
        kind: 'refused',
        reason: 'unsupported_scheme',
      });
      expect(await loopback.request({ method: 'GET', url: 'not a url' })).to.deep.include({
        kind: 'refused',
        reason: 'invalid_url',
      });
    });
  });

  describe('no answer', () => {
    it('times out after the request’s own limit', async () => {
      const result = await loopback.request({ method: 'GET', url: `${base}/hang`, timeoutMs: 50 });
      expect(result).to.deep.equal({ kind: 'timed_out', timeoutMs: 50 });
    });

    it('limits the whole exchange: a body trickling in slower than that times out too', async () => {
      const started = Date.now();
      const result = await loopback.request({
        method: 'GET',
        url: `${base}/slow-body`,
        timeoutMs: 300,
      });
      expect(result).to.deep.equal({ kind: 'timed_out', timeoutMs: 300 });
      expect(Date.now() - started).to.be.below(1_500);
    });

    it('times out after the client’s limit when the request sets none', async () => {
      const quick = guarded({
        allowlist: parseAllowlist(['127.0.0.1']),
        timeoutMs: 60,
      });
      expect(await quick.request({ method: 'GET', url: `${base}/hang` })).to.deep.equal({
        kind: 'timed_out',
        timeoutMs: 60,
      });
    });

    it('reports a refused connection with its code', async () => {
      const port = await closedPort();
      const result: HttpResult = await loopback.request({
        method: 'POST',
        url: `http://127.0.0.1:${port}/push`,
        body: '{}',
      });
      expect(result).to.deep.include({ kind: 'failed', code: 'ECONNREFUSED' });
      expect(result.kind === 'failed' && result.message).to.match(/ECONNREFUSED/);
    });

    it('refuses an answer larger than the client accepts', async () => {
      const small = guarded({
        allowlist: parseAllowlist(['127.0.0.1']),
        maxResponseBytes: 100,
      });
      expect(await small.request({ method: 'GET', url: `${base}/big` })).to.deep.equal({
        kind: 'failed',
        code: 'ERR_BAD_RESPONSE',
        message: 'maxContentLength size of 100 exceeded',
      });
    });

    it('refuses an answer that decompresses to more than the client accepts', async () => {
      const small = guarded({
        allowlist: parseAllowlist(['127.0.0.1']),
        maxResponseBytes: 1000,
      });
      expect(await small.request({ method: 'GET', url: `${base}/bomb` })).to.deep.equal({
        kind: 'failed',
        code: 'ERR_BAD_RESPONSE',
        message: 'maxContentLength size of 1000 exceeded',
      });
    });

    it('reports an answer cut short as ERR_BAD_RESPONSE', async () => {
      expect(await loopback.request({ method: 'GET', url: `${base}/cut` })).to.deep.include({
        kind: 'failed',
        code: 'ERR_BAD_RESPONSE',
      });
    });

    it('reports a peer that closes the connection without answering as ECONNRESET', async () => {
      expect(
        await loopback.request({ method: 'POST', url: `${base}/hang-up`, body: '{}' }),
      ).to.deep.include({
        kind: 'failed',
        code: 'ECONNRESET',
      });
    });

    it('resolves, never rejects, when Node refuses the request itself (a bad header name)', async () => {
      const result = await loopback.request({
        method: 'GET',
        url: `${base}/hello`,
        headers: { 'Bad Name': 'x' },
      });
      expect(result).to.deep.include({ kind: 'failed', code: 'ERR_INVALID_HTTP_TOKEN' });
      expect(received).to.deep.equal([]);
    });
  });
});
