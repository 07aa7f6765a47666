import { expect } from 'chai';
import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Router } from 'express';
import { createHttpApp } from '../../../adapters/http/app.js';
import { createMetrics } from '../../../adapters/http/metrics.js';
import { createJsonLogger } from '../../../adapters/logging/logger.js';
import { waitUntil } from '../../support/waitUntil.js';

const LIMIT = 64 * 1024;
const BIG_LIMIT = 1024 * 1024;
/**
 * What the server may read past the limit before it stops: the chunk that crossed it and what
 * Node had already taken off the socket for the paused request (its buffers are 16 to 64 KiB).
 */
const READ_SLACK = 64 * 1024;

/** What an upload that would go on for ever saw: the answer, and when the connection ended. */
interface Upload {
  readonly answer: string;
  /** Body bytes the client managed to hand to its socket before the connection ended. */
  readonly written: number;
  /** The client's port: the server's connection from it is known by it. */
  readonly port: number;
  readonly ms: number;
  /** Whether the connection was still open when the test gave up on it. */
  readonly timedOut: boolean;
}

/**
 * Sends `head`, then `frame` again and again as fast as the socket takes it, until the server
 * ends the connection (or `giveUpMs` passes).
 */
const uploadForever = (
  port: number,
  head: string,
  frame: Buffer,
  giveUpMs = 8_000,
): Promise<Upload> =>
  new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let written = 0;
    let localPort = 0;
    let finished = false;
    const finish = (timedOut: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve({
        answer: Buffer.concat(received).toString('utf8'),
        written,
        port: localPort,
        ms: Date.now() - started,
        timedOut,
      });
    };
    const giveUp = setTimeout(() => {
      finish(true);
    }, giveUpMs);
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // EPIPE or ECONNRESET once the server has closed: the end this test waits for.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      finish(false);
    });
    const pump = (): void => {
      while (!socket.destroyed && !finished) {
        written += frame.length;
        if (!socket.write(frame)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.write(head, pump);
  });

/** One chunk of a chunked body, 16 KiB of JSON-ish text. */
const CHUNK = Buffer.concat([
  Buffer.from('4000\r\n'),
  Buffer.alloc(0x4000, 'a'),
  Buffer.from('\r\n'),
]);

const requestHead = (path: string, headers: Record<string, string>): string =>
  [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');

/** The status line, headers (lower-cased names) and body of a raw HTTP/1.1 answer. */
const parseAnswer = (
  answer: string,
): { status: number; headers: Map<string, string>; body: string } => {
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Map(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body };
};

describe('http app: the body reader (real sockets)', function () {
  this.timeout(30_000);
  let server: Server;
  let port: number;
  let base: string;
  const lines: { level: string; msg: string }[] = [];
  /** Bytes the server read from each closed connection, by the client's port. */
  const bytesRead = new Map<number, number>();
  let requestsSeen = 0;

  before(async () => {
    const echo = Router();
    echo.post(['/echo', '/v1/messages/batch'], (request, response) => {
      const body: unknown = request.body;
      response.json({ type: typeof body, body: body ?? null });
    });
    const app = createHttpApp({
      logger: createJsonLogger('debug', (line) => {
        lines.push(JSON.parse(line) as { level: string; msg: string });
      }),
      metrics: createMetrics(),
      readiness: [],
      routers: [echo],
      bodyLimitOverrides: { '/v1/messages/batch': '1mb' },
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    // After the app's own listener, so the body reader is listening by then.
    server.on('request', () => {
      requestsSeen += 1;
    });
    server.on('connection', (socket: Socket) => {
      const { remotePort = 0 } = socket;
      socket.on('close', () => bytesRead.set(remotePort, socket.bytesRead));
    });
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    lines.length = 0;
  });

  /** The bytes the server read on the connection from `clientPort`, once it closed it. */
  const closedConnection = async (clientPort: number): Promise<number> =>
    (await waitUntil(
      () => bytesRead.get(clientPort),
      (read) => read !== undefined,
      'the server to close the connection',
      5_000,
    )) ?? Number.NaN;

  const expectCutAt = async (upload: Upload, limit: number): Promise<void> => {
    expect(upload.timedOut, 'the connection was still open after 8 s').to.equal(false);
    const { status, headers, body } = parseAnswer(upload.answer);
    expect(status, upload.answer.slice(0, 200)).to.equal(413);
    expect(headers.get('connection')).to.equal('close');
    expect(headers.get('content-type')).to.match(/^application\/problem\+json/);
    const problem = JSON.parse(body) as { code: string; detail: string };
    expect(problem.code).to.equal('payload_too_large');
    expect(problem.detail).to.include(String(limit));
    expect(upload.ms, 'time until the connection closed').to.be.below(2_000);
    const read = await closedConnection(upload.port);
    expect(read, 'bytes the server read').to.be.below(limit + READ_SLACK);
  };

  it('answers an endless chunked upload 413 with Connection: close and closes it at the limit', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const upload = await uploadForever(
      port,
      requestHead('/echo', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }),
      CHUNK,
    );
    await expectCutAt(upload, LIMIT);
    // Whatever the client pushed into its own socket buffers, the server read no more than that.
    expect(process.memoryUsage().heapUsed - heapBefore, 'heap growth').to.be.below(
      32 * 1024 * 1024,
    );
  });

  it('cuts an endless chunked upload of any content type, not only JSON', async () => {
    const upload = await uploadForever(
      port,
      requestHead('/echo', { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' }),
      CHUNK,
    );
    await expectCutAt(upload, LIMIT);
  });

  it('cuts an upload that declares 200 MB and keeps sending, without reading it', async () => {
    const upload = await uploadForever(
      port,
      requestHead('/echo', { 'Content-Type': 'application/json', 'Content-Length': '200000000' }),
      Buffer.alloc(0x4000, 'a'),
    );
    await expectCutAt(upload, LIMIT);
  });

  it('cuts an endless body sent with a GET to the health endpoint too', async () => {
    const upload = await uploadForever(
      port,
      requestHead('/echo', { 'Transfer-Encoding': 'chunked' }).replace(
        'POST /echo',
        'GET /healthz',
      ),
      CHUNK,
    );
    await expectCutAt(upload, LIMIT);
  });

  it('counts chunk framing too: an endless upload of 1-byte chunks with 1,000-byte extensions is cut at about the limit on the wire', async () => {
    const frame = Buffer.from(`1;${'e'.repeat(1_000)}\r\na\r\n`);
    const upload = await uploadForever(
      port,
      requestHead('/echo', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }),
      frame,
    );
    expect(upload.timedOut, 'the connection was still open after 8 s').to.equal(false);
    const { status, body } = parseAnswer(upload.answer);
    expect(status, upload.answer.slice(0, 200)).to.equal(413);
    expect((JSON.parse(body) as { detail: string }).detail).to.include('chunk framing');
    // The body's bytes stayed far under the limit; the wire's may pass it by a quarter and 16 KiB,
    // plus the socket read the body began in (counted from its end) and the one that crossed.
    const read = await closedConnection(upload.port);
    expect(read, 'bytes the server read').to.be.below(
      LIMIT + LIMIT / 4 + 16 * 1024 + 2 * READ_SLACK,
    );
  });

  it('takes a body whose ordinary chunk framing passes the limit on the wire when the body does not', async () => {
    // 1,000-byte chunks frame a body of exactly the limit in about 1% more bytes.
    const fits = await postChunked('/echo', jsonOfSize(LIMIT));
    expect(fits.status, fits.body.slice(0, 200)).to.equal(200);
  });

  it('applies a route’s own limit the same way (1 MiB on /v1/messages/batch)', async () => {
    const upload = await uploadForever(
      port,
      requestHead('/v1/messages/batch', {
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      }),
      CHUNK,
    );
    await expectCutAt(upload, BIG_LIMIT);
    expect(upload.written, 'the client got past the 64 KiB default').to.be.above(LIMIT);
  });

  /** Sends `body` chunked (no Content-Length), in 1000-byte chunks, and reads the answer. */
  const postChunked = (path: string, body: Buffer): Promise<ReturnType<typeof parseAnswer>> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        const answer = parseAnswer(Buffer.concat(received).toString('utf8'));
        if (Buffer.byteLength(answer.body) >= Number(answer.headers.get('content-length'))) {
          socket.end();
          resolve(answer);
        }
      });
      socket.on('error', reject);
      const frames: Buffer[] = [];
      for (let at = 0; at < body.length; at += 1000) {
        const part = body.subarray(at, at + 1000);
        frames.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
      }
      socket.write(
        Buffer.concat([
          Buffer.from(
            requestHead(path, {
              'Content-Type': 'application/json',
              'Transfer-Encoding': 'chunked',
            }),
          ),
          ...frames,
          Buffer.from('0\r\n\r\n'),
        ]),
      );
    });

  /** A JSON document of exactly `bytes` bytes. */
  const jsonOfSize = (bytes: number): Buffer => {
    const frame = '{"text":""}';
    return Buffer.from(`{"text":"${'x'.repeat(bytes - frame.length)}"}`);
  };

  it('takes a chunked body of exactly the limit, and refuses one byte more', async () => {
    const fits = await postChunked('/echo', jsonOfSize(LIMIT));
    expect(fits.status, fits.body.slice(0, 200)).to.equal(200);
    expect((JSON.parse(fits.body) as { body: { text: string } }).body.text).to.have.length(
      LIMIT - '{"text":""}'.length,
    );
    const over = await postChunked('/echo', jsonOfSize(LIMIT + 1));
    expect(over.status).to.equal(413);
  });

  it('takes a body with a declared length just under the limit', async () => {
    const body = jsonOfSize(LIMIT - 10);
    const response = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).to.equal(200);
    expect(((await response.json()) as { type: string }).type).to.equal('object');
  });

  it('logs a client that goes away mid-body at debug level only, and answers nothing', async () => {
    const requestsBefore = requestsSeen;
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => {
      socket.write(
        requestHead('/echo', { 'Content-Type': 'application/json', 'Content-Length': '5000' }),
      );
      socket.write('{"text":"only the start', () => {
        resolve();
      });
    });
    // Vanish once the server is reading the body.
    await waitUntil(
      () => requestsSeen,
      (seen) => seen > requestsBefore,
      'the server to take the request',
    );
    const { localPort = 0 } = socket;
    socket.destroy();
    await closedConnection(localPort);
    const abandoned = 'request abandoned by the client during its body';
    await waitUntil(
      () => lines,
      (logged) => logged.some((line) => line.msg === abandoned || line.level !== 'debug'),
      'the server to log the abandoned request',
      2_000,
    );
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).to.deep.equal(
      [],
    );
    expect(lines.filter((line) => line.msg === abandoned).map((line) => line.level)).to.deep.equal([
      'debug',
    ]);
    expect(received, 'nothing is answered to a client that is gone').to.deep.equal([]);
  });

  describe('JSON bodies', () => {
    const post = (
      body: string | Uint8Array,
      headers: Record<string, string> = { 'content-type': 'application/json' },
    ): Promise<Response> => fetch(`${base}/echo`, { method: 'POST', headers, body });

    it('parses application/json and application/*+json, with or without a UTF-8 charset', async () => {
      for (const type of [
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset="UTF-8"',
        'application/merge-patch+json',
      ]) {
        const response = await post('{"a":1}', { 'content-type': type });
        expect(response.status, type).to.equal(200);
        expect(await response.json(), type).to.deep.equal({ type: 'object', body: { a: 1 } });
      }
    });

    it('reads other bodies without parsing them', async () => {
      const response = await post('{"a":1}', { 'content-type': 'text/plain' });
      expect(await response.json()).to.deep.equal({ type: 'undefined', body: null });
    });

    it('refuses another charset, or a compressed body, with 415 unsupported_media_type', async () => {
      const latin1 = await post('{"a":1}', { 'content-type': 'application/json; charset=latin1' });
      expect(latin1.status).to.equal(415);
      expect(((await latin1.json()) as { code: string }).code).to.equal('unsupported_media_type');
      const gzipped = await post(gzipSync('{"a":1}'), {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(gzipped.status).to.equal(415);
      expect(((await gzipped.json()) as { code: string }).code).to.equal('unsupported_media_type');
    });

    it('refuses malformed JSON and a bare value with 400 invalid_json, logging nothing above debug', async () => {
      for (const body of ['{"a":', '"just a string"', '42', '   ']) {
        const response = await post(body);
        expect(response.status, body).to.equal(400);
        expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(((await response.json()) as { code: string }).code, body).to.equal('invalid_json');
      }
      expect(lines.filter((line) => line.level !== 'debug')).to.deep.equal([]);
    });

    it('skips a byte order mark', async () => {
      const response = await post('\uFEFF{"a":"b"}');
      expect(await response.json()).to.deep.equal({ type: 'object', body: { a: 'b' } });
    });

    it('keeps bytes that are not UTF-8 as lone surrogates, for the routes to refuse', async () => {
      const response = await post(
        Buffer.concat([Buffer.from('{"a":"x'), Buffer.of(0xff), Buffer.from('y"}')]),
      );
      const { body } = (await response.json()) as { body: { a: string } };
      expect(body.a.isWellFormed()).to.equal(false);
      expect(body.a.startsWith('x') && body.a.endsWith('y')).to.equal(true);
    });
  });
});
