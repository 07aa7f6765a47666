import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runServer, waitUntilHealthy, type Run } from '../support/serverProcess.js';

const linesOf = (text: string): string[] => text.split('\n').filter((line) => line.length > 0);

describe('Tidings server (as a process)', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const runs: Run[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-process-'));
    dirs.push(dir);
    return dir;
  };

  const start = (settings: Readonly<Record<string, string>>): Run => {
    const run = runServer(settings);
    runs.push(run);
    return run;
  };

  after(async () => {
    for (const run of runs.splice(0)) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGKILL');
        await run.ended;
      }
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an invalid setting with a non-zero exit and one stderr line naming it', async () => {
    const dir = join(tempDir(), 'data');
    const run = start({ PORT: 'abc', TIDINGS_HOST: '127.0.0.1', TIDINGS_DATA_DIR: dir });
    const { code } = await run.ended;
    expect(code).to.be.a('number').and.not.equal(0);
    const lines = linesOf(run.stderr());
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('PORT');
    expect(lines[0]).to.include('abc');
    expect(run.stdout()).to.equal('');
    // Nothing was started, so nothing was created.
    expect(existsSync(dir)).to.equal(false);
  });

  it('logs JSON lines, serves /healthz, refuses a second process on its folder and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = start({ PORT: String(port), TIDINGS_HOST: '127.0.0.1', TIDINGS_DATA_DIR: dir });

    await waitUntilHealthy(run, url);
    const response = await fetch(`${url}/healthz`);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'ok' });

    // A second process on the same data folder is refused while this one runs.
    const second = start({
      PORT: String(await freePort()),
      TIDINGS_HOST: '127.0.0.1',
      TIDINGS_DATA_DIR: dir,
    });
    const refused = await second.ended;
    expect(refused.code).to.be.a('number').and.not.equal(0);
    const complaint = linesOf(second.stderr());
    expect(complaint).to.have.length(1);
    expect(complaint[0]).to.include('in use');
    expect(complaint[0]).to.include(String(run.child.pid));
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);

    expect(run.child.kill('SIGTERM')).to.equal(true);
    const { code, signal } = await run.ended;
    expect({ code, signal }).to.deep.equal({ code: 0, signal: null });

    const entries = linesOf(run.stdout()).map((line) => {
      const parsed = JSON.parse(line) as unknown;
      expect(parsed, line).to.be.an('object');
      return parsed as Record<string, unknown>;
    });
    for (const entry of entries) {
      expect(entry['time']).to.be.a('string');
      expect(Number.isNaN(Date.parse(entry['time'] as string))).to.equal(false);
      expect(entry['level']).to.be.oneOf(['debug', 'info', 'warn', 'error']);
      expect(entry['msg']).to.be.a('string');
    }
    const messages = entries.map((entry) => entry['msg']);
    const listening = entries.find((entry) => entry['msg'] === 'tidings listening');
    expect(listening, 'a "tidings listening" line').to.not.equal(undefined);
    expect(listening!['url']).to.equal(url);
    expect(messages).to.include('tidings stopped');
    expect(messages.indexOf('tidings stopped')).to.be.greaterThan(
      messages.indexOf('tidings listening'),
    );
    expect(run.stderr()).to.equal('');
    // The lock is released on a clean stop; the generated tokens stay.
    expect(existsSync(join(dir, 'tidings.lock'))).to.equal(false);
    expect(existsSync(join(dir, 'admin-token'))).to.equal(true);
  });
});
