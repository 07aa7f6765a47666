import { expect } from 'chai';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { reportDrops } from '../../composition/listen.js';
import { recordingLogger, type LogEntry } from '../support/logs.js';
import { rawExchange, type RawExchange } from '../support/rawHttp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitUntil } from '../support/waitUntil.js';

/** The problem document of a raw answer, checked to be problem+json that no cache keeps. */
const problemOf = (reply: RawExchange): { code: string; status: number; detail: string } => {
  expect(reply.headers['content-type']).to.match(/^application\/problem\+json/);
  expect(reply.headers['cache-control']).to.equal('no-store');
  expect(reply.headers['x-content-type-options']).to.equal('nosniff');
  expect(Number(reply.headers['content-length'])).to.equal(Buffer.byteLength(reply.body));
  return JSON.parse(reply.body) as { code: string; status: number; detail: string };
};

/** `text` one byte a second. */
const dribble = (text: string): (string | number)[] =>
  Array.from({ length: text.length }, (_, index) => [text.charAt(index), 1_000]).flat();

/** A test server with `env` set, and the log lines it writes. */
const startRecordedServer = async (
  env: Readonly<Record<string, string>>,
): Promise<{ server: TestServer; entries: LogEntry[] }> => {
  const recording = recordingLogger();
  return {
    server: await startTestServer({ logger: recording.logger, env }),
    entries: recording.entries,
  };
};

describe('HTTP server limits (composition/listen.ts)', function () {
  this.timeout(30_000);

  describe('timeouts', () => {
    let server: TestServer;
    let entries: LogEntry[];
    before(async () => {
      ({ server, entries } = await startRecordedServer({
        TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: '1',
        TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS: '2',
      }));
    });
    after(async () => {
      await server.dispose();
    });

    it('cuts a client that sends its headers one byte a second within the headers timeout, answering 408 request_timeout', async () => {
      const reply = await rawExchange(server.base, [
        'GET /healthz HTTP/1.1\r\n',
        ...dribble('Host: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n'),
      ]);
      expect(reply.status).to.equal(408);
      expect(problemOf(reply)).to.include({ code: 'request_timeout', status: 408 });
      // 1 s of timeout, checked every second, plus slack for a loaded machine.
      expect(reply.closedAfterMs).to.be.within(900, 3_500);
    });

    it('cuts a connection that sends nothing at all within the headers timeout', async () => {
      const reply = await rawExchange(server.base, []);
      expect(reply.closedAfterMs).to.be.within(900, 3_500);
    });

    it('cuts a body sent one byte a second within the request timeout, answering 408', async () => {
      const reply = await rawExchange(server.base, [
        'POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n',
        ...dribble('{"username":"slow","password":"slowslow"'),
      ]);
      expect(reply.status).to.equal(408);
      expect(problemOf(reply).code).to.equal('request_timeout');
      expect(reply.closedAfterMs).to.be.within(1_900, 4_500);
    });

    it('logs a refused slow client at debug only', async () => {
      const logged = entries.length;
      const reply = await rawExchange(server.base, ['GET /healthz HTTP/1.1\r\n']);
      expect(reply.status).to.equal(408);
      const lines = entries.slice(logged);
      expect(lines.map((entry) => [entry.level, entry.msg])).to.deep.include([
        'debug',
        'client error',
      ]);
      expect(lines.filter((entry) => entry.level !== 'debug')).to.deep.equal([]);
    });
  });

  describe('what Node refuses before express', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ env: { TIDINGS_HTTP_MAX_HEADER_BYTES: '2048' } });
    });
    after(async () => {
      await server.dispose();
    });

    it('answers headers over TIDINGS_HTTP_MAX_HEADER_BYTES with 431 headers_too_large', async () => {
      const reply = await rawExchange(server.base, [
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(3_000)}\r\n\r\n`,
      ]);
      expect(reply.status).to.equal(431);
      expect(problemOf(reply)).to.include({ code: 'headers_too_large', status: 431 });
      // Headers under the limit still pass.
      const fine = await rawExchange(server.base, [
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(1_500)}\r\nConnection: close\r\n\r\n`,
      ]);
      expect(fine.status).to.equal(200);
    });

    it('answers a malformed Transfer-Encoding and a broken chunk with 400 malformed_request', async () => {
      for (const request of [
        'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n',
        'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc',
        'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n',
      ]) {
        const reply = await rawExchange(server.base, [request]);
        expect(reply.status, request).to.equal(400);
        expect(problemOf(reply).code, request).to.equal('malformed_request');
      }
    });

    it('answers an HTTP/1.1 request without Host, or any with two, 400 malformed_request as problem+json', async () => {
      for (const request of [
        'GET /healthz HTTP/1.1\r\n\r\n',
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: example.com\r\n\r\n',
      ]) {
        const reply = await rawExchange(server.base, [request]);
        expect(reply.status, request).to.equal(400);
        expect(problemOf(reply), request).to.include({ code: 'malformed_request', status: 400 });
        expect(reply.headers['connection'], request).to.equal('close');
      }
      // HTTP/1.0 has no Host to require.
      const old = await rawExchange(server.base, ['GET /healthz HTTP/1.0\r\n\r\n']);
      expect(old.status).to.equal(200);
    });

    it('answers CONNECT 405 method_not_allowed as problem+json, with an empty Allow, and closes', async () => {
      const reply = await rawExchange(
        server.base,
        ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
        5_000,
      );
      expect(reply.status).to.equal(405);
      expect(problemOf(reply)).to.include({ code: 'method_not_allowed', status: 405 });
      expect(reply.headers).to.have.property('allow', '');
      expect(reply.closedAfterMs, 'closed once answered').to.be.below(4_000);
    });

    it('answers a malformed request that follows a good one on the same connection', async () => {
      const reply = await rawExchange(server.base, [
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        200,
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n',
      ]);
      expect(reply.status).to.equal(200);
      const second = reply.body.slice(reply.body.indexOf('HTTP/1.1 '));
      expect(second).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(second).to.include('"code":"malformed_request"');
    });
  });

  describe('Expect: 100-continue', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(async () => {
      await server.dispose();
    });

    it('answers an upload declared over the limit 413 at once, without inviting its body with 100 Continue', async () => {
      const reply = await rawExchange(
        server.base,
        [
          'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            'Content-Length: 209715200\r\nExpect: 100-continue\r\n\r\n',
        ],
        5_000,
      );
      expect(reply.status).to.equal(413);
      expect(problemOf(reply)).to.include({ code: 'payload_too_large' });
    });

    it('invites a body within the limit with 100 Continue, then answers the request', async () => {
      const body = '{"key":"k","title":"t"}';
      const reply = await rawExchange(
        server.base,
        [
          'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
          300,
          body,
        ],
        5_000,
      );
      expect(reply.status, 'the interim answer comes first').to.equal(100);
      // Then the final answer: no app secret, so 401.
      expect(reply.body).to.match(/^HTTP\/1\.1 401 /);
    });
  });

  describe('Expect: other forms', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(async () => {
      await server.dispose();
    });

    const post = (version: string, expectation: string, pauseMs: number) => {
      const body = '{"key":"k","title":"t"}';
      return rawExchange(
        server.base,
        [
          `POST /v1/messages HTTP/${version}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${body.length}\r\nExpect: ${expectation}\r\nConnection: close\r\n\r\n`,
          pauseMs,
          body,
        ],
        5_000,
      );
    };

    it('sends no 100 Continue to an HTTP/1.0 client (RFC 9110 section 10.1.1), and answers it', async () => {
      const reply = await post('1.0', '100-continue', 300);
      // No app secret, so 401, and nothing before it.
      expect(reply.status).to.equal(401);
      expect(reply.body).to.not.include('100 Continue');
      expect(problemOf(reply).code).to.equal('unauthorized');
    });

    it('invites the body of an HTTP/1.1 client that lists 100-continue among other expectations', async () => {
      const reply = await post('1.1', '100-Continue, x-other', 300);
      expect(reply.status, 'the interim answer comes first').to.equal(100);
      expect(reply.body).to.match(/^HTTP\/1\.1 401 /);
    });

    it('ignores an expectation it does not know and answers the request as usual', async () => {
      const reply = await post('1.1', 'x-unknown', 0);
      expect(reply.status).to.equal(401);
      expect(problemOf(reply).code).to.equal('unauthorized');
    });
  });

  describe('connections', () => {
    let server: TestServer;
    let entries: LogEntry[];
    before(async () => {
      ({ server, entries } = await startRecordedServer({
        TIDINGS_HTTP_MAX_CONNECTIONS: '2',
        TIDINGS_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '30',
      }));
    });
    after(async () => {
      await server.dispose();
    });

    /** A kept-alive connection that sends one GET /healthz at a time and reads its answer. */
    const keptAlive = async (): Promise<{ get(): Promise<string>; close(): void }> => {
      const { hostname, port } = new URL(server.base);
      const socket: Socket = connect({ host: hostname, port: Number(port) });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.setEncoding('utf8');
      return {
        get: () =>
          new Promise((resolve) => {
            socket.once('data', (chunk: string) => {
              resolve(chunk);
            });
            socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          }),
        close: () => socket.destroy(),
      };
    };

    it('closes connections over TIDINGS_HTTP_MAX_CONNECTIONS while the open ones keep working, and warns', async () => {
      const first = await keptAlive();
      const second = await keptAlive();
      try {
        expect(await first.get()).to.match(/^HTTP\/1\.1 200 /);
        expect(await second.get()).to.match(/^HTTP\/1\.1 200 /);
        const third = await rawExchange(server.base, [
          'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        ]);
        expect(third.status).to.equal(undefined);
        expect(third.body).to.equal('');
        expect(await first.get()).to.match(/^HTTP\/1\.1 200 /);
        expect(await second.get()).to.match(/^HTTP\/1\.1 200 /);
        expect(
          entries.filter((entry) => entry.level === 'warn').map((entry) => entry.msg),
        ).to.deep.equal(['connections refused: TIDINGS_HTTP_MAX_CONNECTIONS are open']);
      } finally {
        first.close();
        second.close();
      }
      // Once they are gone, new connections are taken again.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const later = await fetch(`${server.base}/healthz`);
      expect(later.status).to.equal(200);
    });
  });

  describe('the warning about refused connections', () => {
    it('reports drops that follow a warning once the interval has passed, without another drop', async () => {
      const { logger, entries } = recordingLogger();
      const server = createServer();
      reportDrops(server, logger, 2, 200);
      const refused = (): unknown[] =>
        entries.filter((entry) => entry.level === 'warn').map((entry) => entry['refused']);
      server.emit('drop');
      expect(refused(), 'the first drop is reported at once').to.deep.equal([1]);
      server.emit('drop');
      server.emit('drop');
      expect(refused(), 'within the interval, only counted').to.deep.equal([1]);
      const reported = await waitUntil(
        refused,
        (counts) => counts.length > 1,
        'the count of the drops within the interval',
        5_000,
      );
      expect(reported, 'the interval has passed').to.deep.equal([1, 2]);
      server.emit('drop');
      server.emit('close');
      expect(refused(), 'what is pending when the server closes').to.deep.equal([1, 2, 1]);
    });
  });
});
