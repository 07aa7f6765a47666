import axios, { AxiosHeaders, isAxiosError } from 'axios';
import type { AxiosError, AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { toByteStringHeaderObject } from 'axios/unsafe/helpers/sanitizeHeaderValue.js';
import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import {
  FORBIDDEN_DESTINATION,
  ForbiddenDestinationError,
  createGuardedAxios,
  destinationProblemOf,
} from '../../../adapters/outbound/destinationGuard.js';
import { outgoingHeaders } from '../../../adapters/outbound/guardedHttpAdapter.js';

// Every request here goes to a server on 127.0.0.1 (an IP literal: no DNS), which the guarded
// clients may reach only because their allowlist names it.

interface Received {
  readonly method: string;
  readonly url: string;
  /** Header names and values in the order they came, without `Host` (the port differs). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

const SLOW_CHUNKS = 40;

/** The routes of the test server; each answers the way its name says. */
const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/text':
      response.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Retry-After': '7',
        'Set-Cookie': ['a=1', 'b=2'],
      });
      response.end('hello');
      return;
    case '/json':
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"code":200,"message":"success"}');
      return;
    case '/bom':
      response.end('\uFEFFhi');
      return;
    case '/missing':
      response.writeHead(404);
      response.end('no such thing');
      return;
    case '/redirect':
      response.writeHead(302, { Location: 'http://127.0.0.1:9/elsewhere' });
      response.end();
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
    case '/big':
      response.end('x'.repeat(Number(url.searchParams.get('n'))));
      return;
    case '/hang':
      return;
    case '/slow-body': {
      // Each chunk comes well within any idle timeout; the whole body takes about 2 s.
      response.writeHead(200, { 'Content-Length': String(SLOW_CHUNKS) });
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        response.write('.');
        if (sent === SLOW_CHUNKS) {
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
    default:
      response.end(`${request.method ?? ''} ${request.url ?? ''}`);
  }
};

describe('guarded client: the adapter', () => {
  let server: http.Server;
  let base: string;
  let received: Received[];
  let guarded: AxiosInstance;
  /** axios with its own http adapter and the guarded client's options: what to be equal to. */
  let reference: AxiosInstance;
  const agents: http.Agent[] = [];

  before(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < request.rawHeaders.length; i += 2) {
          const name = request.rawHeaders[i] ?? '';
          if (name.toLowerCase() !== 'host') headers.push([name, request.rawHeaders[i + 1] ?? '']);
        }
        received.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers,
          body: Buffer.concat(chunks).toString('latin1'),
        });
        handle(request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    guarded = createGuardedAxios({ allowlist: parseAllowlist(['127.0.0.1']) });
    const referenceAgent = new http.Agent({ keepAlive: true });
    agents.push(
      referenceAgent,
      guarded.defaults.httpAgent as http.Agent,
      guarded.defaults.httpsAgent as http.Agent,
    );
    reference = axios.create({
      adapter: 'http',
      httpAgent: referenceAgent,
      maxRedirects: 0,
      proxy: false,
      timeout: 5000,
      maxContentLength: 1_048_576,
      validateStatus: () => true,
    });
  });

  after(async () => {
    for (const agent of agents) agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });

  beforeEach(() => {
    received = [];
  });

  const failure = async (promise: Promise<unknown>): Promise<unknown> => {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    return expect.fail('expected the request to fail');
  };

  /** What a caller sees of a response. */
  const visible = (response: AxiosResponse) => ({
    status: response.status,
    statusText: response.statusText,
    headers: Object.entries(AxiosHeaders.from(response.headers as AxiosHeaders).toJSON()).filter(
      ([name]) => name !== 'date' && name !== 'keep-alive',
    ),
    data: response.data as unknown,
    isAxiosHeaders: response.headers instanceof AxiosHeaders,
  });

  describe('sends and answers exactly what axios would', () => {
    const cases: readonly (readonly [string, AxiosRequestConfig])[] = [
      ['a GET', { method: 'get', url: '/text' }],
      [
        'a JSON text body, as the Bark channel posts it',
        {
          method: 'post',
          url: '/push',
          data: '{"device_key":"k","body":"日本語 ✓"}',
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
          responseType: 'text',
          transformRequest: [],
          transformResponse: [],
        },
      ],
      ['an object body (JSON by transformRequest)', { method: 'put', url: '/obj', data: { a: 1 } }],
      [
        'a Buffer body',
        { method: 'post', url: '/buf', data: Buffer.from([0, 1, 2, 255]), responseType: 'text' },
      ],
      ['params and a query', { method: 'get', url: '/q?z=1#frag', params: { a: 1, b: 'x y' } }],
      [
        'headers of its own',
        {
          method: 'post',
          url: '/h',
          data: 'x',
          headers: {
            'user-agent': 'Mine/1.0',
            'X-Padded': '  spaced  ',
            'X-Latin': 'café',
            'X-Wide': 'a日b',
            'X-Number': 42,
            'X-List': ['one', 'two'],
            'Accept-Encoding': null,
            'X-Off': false,
            'content-length': '1',
          },
        },
      ],
      [
        'a body and a User-Agent turned off',
        { method: 'post', url: '/u', data: 'abc', headers: { 'User-Agent': false } },
      ],
      ['a DELETE without body', { method: 'delete', url: '/d' }],
      ['a HEAD', { method: 'head', url: '/gzip' }],
      ['JSON parsed by default', { method: 'get', url: '/json' }],
      ['JSON asked for', { method: 'get', url: '/json', responseType: 'json' }],
      ['text asked for', { method: 'get', url: '/json', responseType: 'text' }],
      ['a Buffer asked for', { method: 'get', url: '/text', responseType: 'arraybuffer' }],
      ['a byte-order mark', { method: 'get', url: '/bom' }],
      ['a latin1 answer', { method: 'get', url: '/bom', responseEncoding: 'latin1' }],
      ['gzip', { method: 'get', url: '/gzip' }],
      ['deflate', { method: 'get', url: '/deflate' }],
      ['raw deflate', { method: 'get', url: '/deflate-raw' }],
      ['brotli', { method: 'get', url: '/br' }],
      [
        'gzip left alone',
        { method: 'get', url: '/gzip', decompress: false, responseType: 'arraybuffer' },
      ],
      ['204 with a content-encoding', { method: 'get', url: '/no-content' }],
      ['a 404', { method: 'get', url: '/missing' }],
      ['a redirect, not followed', { method: 'get', url: '/redirect' }],
    ];

    for (const [what, config] of cases) {
      it(what, async () => {
        const ours = await guarded.request({ ...config, baseURL: base });
        const theirs = await reference.request({ ...config, baseURL: base });
        expect(received).to.have.length(2);
        expect(received[0]).to.deep.equal(received[1]);
        expect(visible(ours)).to.deep.equal(visible(theirs));
      });
    }
  });

  it('fails the same way as axios when validateStatus says no', async () => {
    const config = { baseURL: base, url: '/missing', validateStatus: (s: number) => s < 400 };
    const ours = await failure(guarded.request(config));
    const theirs = await failure(reference.request(config));
    for (const error of [ours, theirs]) {
      expect(isAxiosError(error)).to.equal(true);
      expect(error).to.include({ code: 'ERR_BAD_REQUEST' });
      expect((error as AxiosError).response?.status).to.equal(404);
    }
    expect((ours as AxiosError).message).to.equal((theirs as AxiosError).message);
  });

  it('fails as axios does when the connection is refused', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      closed.close(() => {
        resolve();
      });
    });
    const error = await failure(guarded.get(`http://127.0.0.1:${port}/`));
    expect(isAxiosError(error)).to.equal(true);
    expect(error).to.include({ code: 'ECONNREFUSED' });
  });

  it('fails as axios does when the answer is cut short', async () => {
    const ours = await failure(guarded.get(`${base}/cut`));
    const theirs = await failure(reference.get(`${base}/cut`));
    expect(isAxiosError(ours)).to.equal(true);
    expect(ours).to.include({
      code: (theirs as AxiosError).code,
      message: (theirs as AxiosError).message,
    });
  });

  it('fails as axios does when Node refuses the request (a path with a space)', async () => {
    const config = {
      baseURL: base,
      url: '/text',
      params: { q: 1 },
      paramsSerializer: { serialize: () => 'a b' },
    };
    const ours = await failure(guarded.request(config));
    const theirs = await failure(reference.request(config));
    expect(ours).to.include({ code: 'ERR_UNESCAPED_CHARACTERS' });
    expect((ours as Error).message).to.equal((theirs as Error).message);
    expect(received).to.deep.equal([]);
  });

  describe('timeout', () => {
    it('fails with ECONNABORTED when nothing comes in time', async () => {
      const error = await failure(guarded.get(`${base}/hang`, { timeout: 50 }));
      expect(isAxiosError(error)).to.equal(true);
      expect(error).to.include({ code: 'ECONNABORTED', message: 'timeout of 50ms exceeded' });
    });

    it('says ETIMEDOUT with clarifyTimeoutError, and uses timeoutErrorMessage', async () => {
      const error = await failure(
        guarded.get(`${base}/hang`, {
          timeout: 50,
          timeoutErrorMessage: 'too slow',
          transitional: { clarifyTimeoutError: true },
        }),
      );
      expect(error).to.include({ code: 'ETIMEDOUT', message: 'too slow' });
    });

    it('limits the whole request: a body trickling in slower than that fails too', async () => {
      const started = Date.now();
      const error = await failure(guarded.get(`${base}/slow-body`, { timeout: 300 }));
      expect(error).to.include({ code: 'ECONNABORTED', message: 'timeout of 300ms exceeded' });
      expect(Date.now() - started).to.be.below(1_500);
    });

    it('uses the client timeout by default', async () => {
      const quick = createGuardedAxios({ allowlist: parseAllowlist(['127.0.0.1']), timeoutMs: 60 });
      agents.push(quick.defaults.httpAgent as http.Agent);
      const error = await failure(quick.get(`${base}/hang`));
      expect(error).to.include({ code: 'ECONNABORTED', message: 'timeout of 60ms exceeded' });
    });
  });

  describe('size limits', () => {
    it('refuses an answer over maxContentLength, as axios does', async () => {
      const config = { baseURL: base, url: '/big?n=5000', maxContentLength: 1000 };
      const ours = await failure(guarded.request(config));
      const theirs = await failure(reference.request(config));
      expect(ours).to.include({
        code: 'ERR_BAD_RESPONSE',
        message: 'maxContentLength size of 1000 exceeded',
      });
      expect(ours).to.include({ message: (theirs as AxiosError).message });
      expect((await guarded.request({ ...config, url: '/big?n=1000' })).data).to.have.length(1000);
    });

    it('refuses an answer over the client limit by default', async () => {
      const small = createGuardedAxios({
        allowlist: parseAllowlist(['127.0.0.1']),
        maxResponseBytes: 100,
      });
      agents.push(small.defaults.httpAgent as http.Agent);
      const error = await failure(small.get(`${base}/big?n=101`));
      expect(error).to.include({ code: 'ERR_BAD_RESPONSE' });
    });

    it('refuses a body over maxBodyLength before sending anything', async () => {
      const error = await failure(
        guarded.post(`${base}/up`, 'y'.repeat(2000), { maxBodyLength: 1000 }),
      );
      expect(error).to.include({
        code: 'ERR_BAD_REQUEST',
        message: 'Request body larger than maxBodyLength limit',
      });
      expect(received).to.deep.equal([]);
    });
  });

  describe('the guard', () => {
    const strict = () => {
      const instance = createGuardedAxios({ allowlist: emptyAllowlist });
      agents.push(instance.defaults.httpAgent as http.Agent);
      return instance;
    };

    it('ignores an adapter a request brings, allowed or refused', async () => {
      let called = 0;
      const adapter = (): Promise<AxiosResponse> => {
        called += 1;
        return Promise.reject(new Error('not this adapter'));
      };
      expect((await guarded.get(`${base}/text`, { adapter })).data).to.equal('hello');
      const error = await failure(strict().get(`${base}/text`, { adapter }));
      expect(error).to.be.instanceOf(ForbiddenDestinationError);
      expect(called).to.equal(0);
      expect(received.map((r) => r.url)).to.deep.equal(['/text']);
    });

    it('judges the URL as finally requested, even one a transformRequest rewrote', async () => {
      const error = await failure(
        guarded.post(`${base}/fine`, 'x', {
          transformRequest: [
            function (this: AxiosRequestConfig, data: unknown) {
              this.url = 'http://127.0.0.2/elsewhere';
              return data;
            },
          ],
        }),
      );
      expect((error as { code?: unknown }).code).to.equal(FORBIDDEN_DESTINATION);
      expect(destinationProblemOf(error)).to.include({ reason: 'loopback', address: '127.0.0.2' });
      expect(received).to.deep.equal([]);
    });

    it('refuses before sending on the axios path too (a stream answer)', async () => {
      const error = await failure(strict().get(`${base}/text`, { responseType: 'stream' }));
      expect(error).to.be.instanceOf(ForbiddenDestinationError);
      expect(received).to.deep.equal([]);
    });

    it('puts its own options back before the axios path, whatever a transformRequest set', async () => {
      const stray = new http.Agent();
      agents.push(stray);
      let strayUsed = 0;
      const pooled = stray as unknown as { addRequest: (...args: unknown[]) => void };
      const addRequest = pooled.addRequest.bind(stray);
      pooled.addRequest = (...args) => {
        strayUsed += 1;
        addRequest(...args);
      };
      const response = await guarded.get<Readable>(`${base}/text`, {
        responseType: 'stream',
        transformRequest: [
          function (this: AxiosRequestConfig, data: unknown) {
            this.httpAgent = stray;
            this.maxRedirects = 5;
            return data;
          },
        ],
      });
      const chunks: Buffer[] = [];
      for await (const chunk of response.data) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).to.equal('hello');
      expect(strayUsed).to.equal(0);
    });
  });

  describe('what goes to axios http adapter', () => {
    it('streams an answer', async () => {
      const response = await guarded.get<Readable>(`${base}/text`, { responseType: 'stream' });
      const chunks: Buffer[] = [];
      for await (const chunk of response.data) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).to.equal('hello');
      expect(response.headers['retry-after']).to.equal('7');
    });

    it('cancels on a signal, as axios does', async () => {
      const controller = new AbortController();
      const pending = guarded.get(`${base}/hang`, { signal: controller.signal });
      setTimeout(() => {
        controller.abort();
      }, 20);
      const error = await failure(pending);
      expect(axios.isCancel(error)).to.equal(true);
    });
  });

  describe('outgoingHeaders', () => {
    /** What axios's http adapter does to the same headers. */
    const axiosWay = (headers: AxiosHeaders, contentLength: string | undefined) => {
      const copy = new AxiosHeaders(headers);
      copy.set('User-Agent', `axios/${axios.VERSION}`, false);
      if (contentLength !== undefined) copy.setContentLength(contentLength, false);
      copy.set('Accept-Encoding', 'gzip, compress, deflate, br', false);
      return Object.entries(toByteStringHeaderObject(copy));
    };

    const names = fc.constantFrom(
      'User-Agent',
      'user-agent',
      'USER-AGENT',
      'Content-Length',
      'content-length',
      'Accept-Encoding',
      'accept-encoding',
      'Accept',
      'Content-Type',
      'X-Trace',
      'x-other',
    );
    const values = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom(' padded ', '\ttab', 'café', 'a日b', 'ok'),
      fc.integer(),
      fc.array(fc.constantFrom('one', ' two', 'thr\u0001ee'), { minLength: 1, maxLength: 3 }),
      fc.constantFrom(null, false, true, undefined),
    );

    it('gives what axios would, for any headers', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(names, values), { maxLength: 8 }),
          fc.option(fc.nat().map(String), { nil: undefined }),
          (entries, contentLength) => {
            const headers = new AxiosHeaders();
            for (const [name, value] of entries) headers.set(name, value as never);
            headers.normalize(false);
            expect(Object.entries(outgoingHeaders(headers, contentLength))).to.deep.equal(
              axiosWay(headers, contentLength),
            );
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});
