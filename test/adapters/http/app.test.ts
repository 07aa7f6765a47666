import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from 'express';
import { createHttpApp } from '../../../adapters/http/app.js';
import { createMetrics } from '../../../adapters/http/metrics.js';
import { silentLogger } from '../../../adapters/logging/logger.js';

describe('http app: body limits', () => {
  let server: Server;
  let base: string;
  before(async () => {
    const echo = Router();
    echo.post(['/echo', '/big'], (request, response) => {
      response.json({ bytes: JSON.stringify(request.body).length });
    });
    const app = createHttpApp({
      logger: silentLogger,
      metrics: createMetrics(),
      readiness: [],
      routers: [echo],
      bodyLimitOverrides: { '/big': '1mb' },
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (path: string, body: string, type = 'application/json'): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

  const json = (bytes: number): string => JSON.stringify({ text: 'x'.repeat(bytes) });

  it('accepts a JSON body under 64 KiB', async () => {
    const response = await post('/echo', json(60_000));
    expect(response.status).to.equal(200);
  });

  it('refuses a JSON body over 64 KiB with 413 payload_too_large', async () => {
    const response = await post('/echo', json(70_000));
    expect(response.status).to.equal(413);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(((await response.json()) as { code: string }).code).to.equal('payload_too_large');
  });

  it('refuses an oversized body of any content type, not only JSON', async () => {
    const response = await post('/echo', 'y'.repeat(70_000), 'text/plain');
    expect(response.status).to.equal(413);
  });

  it('lets a route with its own limit take a larger body, up to that limit', async () => {
    expect((await post('/big', json(500_000))).status).to.equal(200);
    expect((await post('/big', json(1_100_000))).status).to.equal(413);
  });
});
