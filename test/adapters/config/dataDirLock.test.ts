import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lockDataDir, type DataDirLock } from '../../../adapters/config/dataDirLock.js';

const holderOf = (dir: string): { pid?: unknown; purpose?: unknown } =>
  JSON.parse(readFileSync(join(dir, 'tidings.lock'), 'utf8')) as {
    pid?: unknown;
    purpose?: unknown;
  };

/** The pid of a process that has certainly ended. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).to.equal(0);
  expect(child.pid).to.be.a('number').and.greaterThan(0);
  return child.pid;
};

describe('lockDataDir', () => {
  let dir: string;
  const held: DataDirLock[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-lock-'));
  });

  afterEach(() => {
    for (const lock of held.splice(0)) lock.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a lock file naming this process and the purpose', () => {
    held.push(lockDataDir(dir, 'server'));
    expect(holderOf(dir)).to.include({ pid: process.pid, purpose: 'server' });
  });

  it('refuses a second lock on the same folder, naming the holder pid', () => {
    held.push(lockDataDir(dir, 'server'));
    let failure: unknown;
    try {
      held.push(lockDataDir(dir, 'rebuild'));
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(Error);
    const message = (failure as Error).message;
    expect(message).to.include(String(process.pid));
    expect(message).to.include('in use');
    expect(message).to.include('server');
    // The holder's lock is untouched.
    expect(holderOf(dir)).to.include({ pid: process.pid, purpose: 'server' });
  });

  it('takes over a lock left by a process that has ended', () => {
    const pid = deadPid();
    writeFileSync(
      join(dir, 'tidings.lock'),
      JSON.stringify({ pid, purpose: 'server', since: new Date().toISOString() }),
    );
    held.push(lockDataDir(dir, 'rebuild'));
    expect(holderOf(dir)).to.include({ pid: process.pid, purpose: 'rebuild' });
  });

  it('takes over a lock that names this very pid when nobody holds the folder (a container restart)', () => {
    writeFileSync(
      join(dir, 'tidings.lock'),
      JSON.stringify({ pid: process.pid, purpose: 'server', since: '2026-01-01T00:00:00.000Z' }),
    );
    held.push(lockDataDir(dir, 'server'));
    expect(holderOf(dir)).to.include({ pid: process.pid, purpose: 'server' });
  });

  it('refuses while another live process holds it, and takes it once that process is killed', async function () {
    this.timeout(30_000);
    const module = pathToFileURL(
      join(dirname(fileURLToPath(import.meta.url)), '../../../adapters/config/dataDirLock.ts'),
    ).href;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { lockDataDir } from ${JSON.stringify(module)};
         lockDataDir(${JSON.stringify(dir)}, 'server');
         console.log('locked');
         setInterval(() => undefined, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('locked')) resolve();
        });
        child.once('exit', () => {
          reject(new Error('the child exited before it locked'));
        });
      });
      expect(() => lockDataDir(dir, 'rebuild')).to.throw(`in use by process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Killed without any clean-up: its lock went with it.
    held.push(lockDataDir(dir, 'rebuild'));
    expect(holderOf(dir)).to.include({ pid: process.pid, purpose: 'rebuild' });
  });

  it('takes over a lock file it cannot read', () => {
    writeFileSync(join(dir, 'tidings.lock'), 'not json');
    held.push(lockDataDir(dir, 'server'));
    expect(holderOf(dir)).to.include({ pid: process.pid });
  });

  it('removes the lock file on release, so the folder can be locked again', () => {
    const lock = lockDataDir(dir, 'server');
    lock.release();
    expect(existsSync(join(dir, 'tidings.lock'))).to.equal(false);
    held.push(lockDataDir(dir, 'server'));
    expect(existsSync(join(dir, 'tidings.lock'))).to.equal(true);
  });
});
