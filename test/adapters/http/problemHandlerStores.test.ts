import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { problemHandler } from '../../../adapters/http/problem.js';
import { AppendTooLarge } from '../../../adapters/eventstoredb/appendTooLarge.js';
import { silentLogger } from '../../../adapters/logging/logger.js';

/** An app whose one route throws `error`, behind the problem handler. */
const answerTo = async (
  error: Error,
): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> => {
  const app = express();
  app.get('/boom', () => {
    throw error;
  });
  app.use(problemHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/boom`);
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
      retryAfter: response.headers.get('retry-after'),
    };
  } finally {
    server.close();
  }
};

describe('problem handler: store failures', () => {
  it('answers a lost database connection 503 unavailable with Retry-After', async () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const answer = await answerTo(lost);
    expect(answer.status).to.equal(503);
    expect(answer.body['code']).to.equal('unavailable');
    expect(answer.retryAfter).to.equal('1');
  });

  it('answers a server shutting down (SQLSTATE 57P01) the same way, a bad statement 500', async () => {
    const shutdown = Object.assign(
      new Error('terminating connection due to administrator command'),
      {
        code: '57P01',
      },
    );
    expect((await answerTo(shutdown)).status).to.equal(503);
    const syntax = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
    expect((await answerTo(syntax)).status).to.equal(500);
  });

  it('answers an append over EventStoreDB’s limit 413 payload_too_large, naming the sizes', async () => {
    const answer = await answerTo(new AppendTooLarge('message-x', 2_000_000, 1_048_576));
    expect(answer.status).to.equal(413);
    expect(answer.body['code']).to.equal('payload_too_large');
    expect(String(answer.body['detail'])).to.include('1048576');
  });
});
