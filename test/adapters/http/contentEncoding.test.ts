import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Router } from 'express';
import { createHttpApp } from '../../../adapters/http/app.js';
import { createMetrics } from '../../../adapters/http/metrics.js';
import { createJsonLogger } from '../../../adapters/logging/logger.js';

/**
 * Compressed request bodies (body-parser inflates gzip, deflate and br): a body that does not
 * decompress is the client's mistake, a 400 problem, and nothing is logged as an error (found by
 * the API fuzz suite: it was a 500 "unhandled error").
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

  it('takes a body compressed with gzip, deflate or br', async () => {
    const json = Buffer.from('{"a":"b"}');
    for (const [encoding, body] of [
      ['gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
    ] as const) {
      const response = await post(encoding, body);
      expect(response.status, encoding).to.equal(200);
      expect(await response.json()).to.deep.equal({ a: 'b' });
    }
  });

  for (const encoding of ['gzip', 'deflate', 'br']) {
    it(`answers a body that is not ${encoding} with 400 invalid_json and logs no error`, async () => {
      const response = await post(encoding, Buffer.from('{"a":"b"}'));
      expect(response.status).to.equal(400);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await response.json()) as { code: string; detail: string };
      expect(problem.code).to.equal('invalid_json');
      expect(problem.detail).to.include(encoding);
      expect(errors).to.deep.equal([]);
    });
  }
});
