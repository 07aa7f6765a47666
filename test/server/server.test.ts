import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../../adapters/config/settings.js';
import { createJsonLogger, silentLogger } from '../../adapters/logging/logger.js';
import { startTidings, type Tidings } from '../../server.js';

const settingsFor = (dir: string): Settings => {
  const decoded = loadSettings({
    PORT: '0',
    TIDINGS_HOST: '127.0.0.1',
    TIDINGS_DATA_DIR: dir,
    TIDINGS_LOG_LEVEL: 'silent',
  });
  if (E.isLeft(decoded)) expect.fail(decoded.left);
  return decoded.right;
};

interface ProblemBody {
  readonly type: unknown;
  readonly title: unknown;
  readonly status: unknown;
  readonly detail: unknown;
  readonly code: unknown;
  readonly [extension: string]: unknown;
}

/** Checks the response is an RFC 9457 problem with the given status and code, and returns it. */
const expectProblem = async (
  response: Response,
  status: number,
  code: string,
): Promise<ProblemBody> => {
  expect(response.status).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json\b/);
  const body = (await response.json()) as ProblemBody;
  expect(body.code).to.equal(code);
  expect(body.status).to.equal(status);
  expect(body.type).to.equal(`https://tidings.dev/problems/${code.replaceAll('_', '-')}`);
  expect(body.title).to.be.a('string').and.not.equal('');
  expect(body.detail).to.be.a('string').and.not.equal('');
  return body;
};

/** Resolves with the error a promise rejects with; fails the test when it resolves. */
const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  return expect.fail('expected the promise to reject');
};

/** Whether a TCP connection to the port is refused. */
const connectionRefused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'ECONNREFUSED');
    });
  });

const portOf = (url: string): number => Number(new URL(url).port);

describe('Tidings server (in process)', () => {
  const dirs: string[] = [];
  const running: Tidings[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-server-'));
    dirs.push(dir);
    return dir;
  };

  const start = async (dir: string, logger = silentLogger): Promise<Tidings> => {
    const tidings = await startTidings(settingsFor(dir), { logger });
    running.push(tidings);
    return tidings;
  };

  after(async () => {
    for (const tidings of running.splice(0)) await tidings.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  describe('HTTP edge', () => {
    let dir: string;
    let tidings: Tidings;

    before(async () => {
      // A folder that does not exist yet: the server creates it.
      dir = join(tempDir(), 'data');
      tidings = await start(dir);
    });

    it('listens on 127.0.0.1 on the port it was given', () => {
      expect(tidings.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(portOf(tidings.url)).to.be.greaterThan(0);
    });

    it('answers GET /healthz with 200 {status: ok}', async () => {
      const response = await fetch(`${tidings.url}/healthz`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/json\b/);
      expect(await response.json()).to.deep.equal({ status: 'ok' });
    });

    it('answers GET /readyz with 200 when the store and processors are fine', async () => {
      const response = await fetch(`${tidings.url}/readyz`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({
        status: 'ready',
        checks: { store: 'ok', processors: 'ok' },
        // How far delivery is behind (composition/admission.ts): nothing waits here.
        node: { delivery: { lagSeconds: 0, eventsBehind: 0, refusing: false, limitSeconds: 10 } },
      });
    });

    it('serves Prometheus metrics with request counts by route and processor positions', async () => {
      expect((await fetch(`${tidings.url}/healthz`)).status).to.equal(200);
      expect((await fetch(`${tidings.url}/no/such/route-42`)).status).to.equal(404);
      const response = await fetch(`${tidings.url}/metrics`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/plain\b/);
      const text = await response.text();
      expect(text).to.match(/^# TYPE tidings_http_requests_total counter$/m);
      expect(text).to.match(
        /^tidings_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]\d*$/m,
      );
      // Unknown paths are counted under one label, not under their raw path.
      expect(text).to.match(
        /^tidings_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]\d*$/m,
      );
      expect(text).to.not.include('route-42');
      expect(tidings.runners.length).to.be.greaterThan(0);
      for (const runner of tidings.runners) {
        expect(text).to.match(
          new RegExp(`^tidings_processor_position\\{processor="${runner.name}"\\} \\d+$`, 'm'),
        );
        expect(text).to.match(
          new RegExp(
            `^tidings_processor_consecutive_failures\\{processor="${runner.name}"\\} 0$`,
            'm',
          ),
        );
      }
    });

    it('answers an unknown route with a 404 not_found problem', async () => {
      const response = await fetch(`${tidings.url}/v1/nothing-here`);
      const body = await expectProblem(response, 404, 'not_found');
      expect(body.title).to.equal('Not found');
      expect(body.detail).to.include('/v1/nothing-here');
    });

    it('answers malformed JSON with a 400 invalid_json problem', async () => {
      const response = await fetch(`${tidings.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"title": "unterminated',
      });
      await expectProblem(response, 400, 'invalid_json');
    });

    it('answers a body over 64 KiB with 413 payload_too_large before routing', async () => {
      const body = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
      expect(Buffer.byteLength(body)).to.be.greaterThan(64 * 1024);
      // The route does not exist: a 404 would mean the body got past the limit to routing.
      const response = await fetch(`${tidings.url}/v1/nothing-here`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await expectProblem(response, 413, 'payload_too_large');
    });

    it('lets a JSON body under the limit through to routing', async () => {
      const body = JSON.stringify({ padding: 'x'.repeat(60 * 1024) });
      const response = await fetch(`${tidings.url}/v1/nothing-here`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await expectProblem(response, 404, 'not_found');
    });

    it('writes the generated admin and audit tokens owner-only to the data folder', () => {
      const adminFile = join(dir, 'admin-token');
      const auditFile = join(dir, 'audit-token');
      expect(statSync(adminFile).mode & 0o777).to.equal(0o600);
      expect(statSync(auditFile).mode & 0o777).to.equal(0o600);
      expect(readFileSync(adminFile, 'utf8').trim()).to.equal(tidings.adminToken);
      expect(readFileSync(auditFile, 'utf8').trim()).to.equal(tidings.auditToken);
      expect(tidings.adminToken).to.not.equal(tidings.auditToken);
    });

    it('creates the data folder owner-only', () => {
      expect(statSync(dir).isDirectory()).to.equal(true);
      expect(statSync(dir).mode & 0o777).to.equal(0o700);
    });

    it('refuses a second start on the same data folder while the first runs', async () => {
      const error = await rejectionOf(startTidings(settingsFor(dir), { logger: silentLogger }));
      expect(error.message).to.match(/in use|lock/i);
      expect(error.message).to.include(String(process.pid));
      // The failed start leaves the running instance and its lock alone.
      expect(existsSync(join(dir, 'tidings.lock'))).to.equal(true);
      expect((await fetch(`${tidings.url}/healthz`)).status).to.equal(200);
    });
  });

  describe('lifecycle', () => {
    it('logs the URL it listens on', async () => {
      const lines: string[] = [];
      const tidings = await start(
        tempDir(),
        createJsonLogger('debug', (line) => lines.push(line)),
      );
      const listening = lines
        .map((line) => JSON.parse(line) as { msg?: unknown; url?: unknown })
        .find((entry) => entry.msg === 'tidings listening');
      expect(listening?.url).to.equal(tidings.url);
    });

    it('keeps the same admin and audit tokens across a restart on the same data folder', async () => {
      const dir = tempDir();
      const first = await start(dir);
      const { adminToken, auditToken } = first;
      await first.close();
      const second = await start(dir);
      expect(second.adminToken).to.equal(adminToken);
      expect(second.auditToken).to.equal(auditToken);
    });

    it('uses a configured admin token and writes no admin-token file', async () => {
      const dir = tempDir();
      const tidings = await startTidings(
        { ...settingsFor(dir), adminToken: 'configured-admin-token-0123456789' },
        { logger: silentLogger },
      );
      running.push(tidings);
      expect(tidings.adminToken).to.equal('configured-admin-token-0123456789');
      expect(existsSync(join(dir, 'admin-token'))).to.equal(false);
      expect(existsSync(join(dir, 'audit-token'))).to.equal(true);
    });

    it('stops listening and releases the data folder on close()', async () => {
      const dir = tempDir();
      const tidings = await start(dir);
      const port = portOf(tidings.url);
      expect((await fetch(`${tidings.url}/healthz`)).status).to.equal(200);
      expect(await connectionRefused(port)).to.equal(false);
      await tidings.close();
      expect(await connectionRefused(port)).to.equal(true);
      expect(existsSync(join(dir, 'tidings.lock'))).to.equal(false);
      // Closing again is harmless.
      await tidings.close();
    });

    it('refuses to start a folder made with the embedded log on EventStoreDB, before connecting, and frees it', async () => {
      const dir = tempDir();
      const first = await start(dir);
      await first.close();
      const error = await rejectionOf(
        startTidings(
          // Nothing listens on this port: a start that tried to connect would fail otherwise.
          { ...settingsFor(dir), eventStoreConnectionString: 'esdb://127.0.0.1:9?tls=false' },
          { logger: silentLogger },
        ),
      );
      expect(error.message).to.include('this data folder follows the embedded log');
      expect(error.message).to.include('TIDINGS_DATA_DIR');
      expect(existsSync(join(dir, 'tidings.lock'))).to.equal(false);
      const again = await start(dir);
      expect((await fetch(`${again.url}/healthz`)).status).to.equal(200);
    });

    it('can start again on a data folder once the previous instance closed', async () => {
      const dir = tempDir();
      const first = await start(dir);
      await first.close();
      const second = await start(dir);
      expect((await fetch(`${second.url}/healthz`)).status).to.equal(200);
    });

    it('reports not ready (503 unavailable) when a processor has stopped', async () => {
      const tidings = await start(tempDir());
      expect((await fetch(`${tidings.url}/readyz`)).status).to.equal(200);
      const runner = tidings.runners[0]!;
      await runner.stop();
      const body = await expectProblem(await fetch(`${tidings.url}/readyz`), 503, 'unavailable');
      expect(body['checks']).to.deep.equal({
        store: 'ok',
        processors: `not processing: ${runner.name}`,
      });
      expect(body.detail).to.include(runner.name);
      // Liveness is unaffected.
      expect((await fetch(`${tidings.url}/healthz`)).status).to.equal(200);
    });
  });
});
