import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Router } from 'express';
import { createHttpApp } from '../../../adapters/http/app.js';
import { createMetrics } from '../../../adapters/http/metrics.js';
import { createJsonLogger } from '../../../adapters/logging/logger.js';

/**
 * Compressed request bodies (docs/api.md, Conventions: bodies are uncompressed): any
 * `Content-Encoding` but `identity` is 415 `unsupported_media_type`, whether or not the bytes
 * really are compressed, and nothing is logged as an error. (The API fuzz suite found that
 * body-parser, which inflated them, answered a body that did not decompress with a logged 500.)
 */
describe('http app: compressed bodies', () => {
  let server: Server;
  let base: string;
  const errors: string[] = [];
  before(async () => {
    const echo = Router();
    echo.post('/echo', (request, response) => {
      response.json(request.body);
    });
    const app = createHttpApp({
      logger: createJsonLogger('error', (line) => errors.push(line)),
      metrics: createMetrics(),
      readiness: [],
      routers: [echo],
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    errors.length = 0;
  });

  const post = (encoding: string, body: Uint8Array): Promise<Response> =>
    fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      body,
    });

  it('takes a body sent with Content-Encoding: identity', async () => {
    const response = await post('identity', Buffer.from('{"a":"b"}'));
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ a: 'b' });
  });

  const json = Buffer.from('{"a":"b"}');
  for (const [encoding, body] of [
    ['gzip', gzipSync(json)],
    ['deflate', deflateSync(json)],
    ['br', brotliCompressSync(json)],
    ['gzip', json],
  ] as const) {
    const what = body === json ? `a body that claims ${encoding} but is not` : `a ${encoding} body`;
    it(`answers ${what} with 415 unsupported_media_type and logs no error`, async () => {
      const response = await post(encoding, body);
      expect(response.status).to.equal(415);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await response.json()) as { code: string; detail: string };
      expect(problem.code).to.equal('unsupported_media_type');
      expect(problem.detail).to.include('uncompressed');
      expect(errors).to.deep.equal([]);
    });
  }
});
