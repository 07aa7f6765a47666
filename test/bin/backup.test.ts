import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandEnvironment, linesOf, projectRoot, runTsx } from '../support/commands.js';
import { COPY_STARTED } from '../support/slowBackupCopy.js';
import { openTempStore } from '../support/sqliteStore.js';

/**
 * `bin/backup.ts` and `bin/restore.ts` as processes: what they print, their exit codes, the
 * settings they read. (The drill in test/server/backup.test.ts runs them through npm.)
 */
describe('backup and restore commands', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  let store: string;

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-commands-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    store = tempDir();
    await openTempStore(store).close();
  });

  after(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Expects a refusal: exit code 2, nothing on stdout, `lines` lines on stderr, the first one `backup: …`. */
  const expectRefused = (
    run: { code: number | null; stdout: string; stderr: string },
    command: string,
    lines = 1,
  ): string => {
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stdout).to.equal('');
    const written = linesOf(run.stderr);
    expect(written, run.stderr).to.have.length(lines);
    expect(written[0]).to.match(new RegExp(`^${command}: `));
    return run.stderr;
  };

  it('backup: names its usage without a file, or with an option it does not know', async () => {
    expect(
      expectRefused(await runTsx('bin/backup.ts', [], { TIDINGS_DATA_DIR: store }), 'backup', 2),
    ).to.include('usage: npm run backup -- <file>');
    expect(
      expectRefused(
        await runTsx('bin/backup.ts', ['x', '--frobnicate'], { TIDINGS_DATA_DIR: store }),
        'backup',
        2,
      ),
    ).to.include('--frobnicate');
  });

  it('backup: refuses with EVENTSTORE_CONNECTION_STRING set, saying the log is not in the folder', async () => {
    const target = join(tempDir(), 'copy');
    const run = await runTsx('bin/backup.ts', [target], {
      TIDINGS_DATA_DIR: store,
      EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
    });
    expect(expectRefused(run, 'backup')).to.include('not in the data folder');
    expect(existsSync(target)).to.equal(false);
  });

  it('backup: refuses a missing data folder and an existing file, and --force replaces it; --data-dir wins over TIDINGS_DATA_DIR', async () => {
    const absent = join(tempDir(), 'absent');
    const target = join(tempDir(), 'copy');
    expect(
      expectRefused(
        await runTsx('bin/backup.ts', [target], { TIDINGS_DATA_DIR: absent }),
        'backup',
      ),
    ).to.include(absent);
    writeFileSync(target, 'older');
    expect(
      expectRefused(
        await runTsx('bin/backup.ts', [target, '--data-dir', store], { TIDINGS_DATA_DIR: absent }),
        'backup',
      ),
    ).to.include('--force');
    expect(readFileSync(target, 'utf8')).to.equal('older');

    const run = await runTsx('bin/backup.ts', [target, '--force', '--data-dir', store], {
      TIDINGS_DATA_DIR: absent,
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal('');
    expect(linesOf(run.stdout)).to.have.length(1);
    expect(run.stdout).to.match(
      /^backup: wrote .+: 0\.\d MB, 0 events, log head at 0, no folder files, in \d+\.\d\d s\n$/,
    );
    expect(readFileSync(target).subarray(0, 16).toString('latin1')).to.equal('SQLite format 3\0');
  });

  it('restore: refuses a folder that is not empty and an invalid setting, and restores into a new folder', async () => {
    const file = join(tempDir(), 'copy');
    expect((await runTsx('bin/backup.ts', [file], { TIDINGS_DATA_DIR: store })).code).to.equal(0);

    const full = tempDir();
    writeFileSync(join(full, 'keep'), 'mine');
    expect(
      expectRefused(await runTsx('bin/restore.ts', [file], { TIDINGS_DATA_DIR: full }), 'restore'),
    ).to.include('not empty');
    expect(readdirSync(full)).to.deep.equal(['keep']);

    const target = join(tempDir(), 'restored');
    expect(
      expectRefused(
        await runTsx('bin/restore.ts', [file, '--data-dir', target], { PORT: 'abc' }),
        'restore',
      ),
    ).to.include('PORT');
    expect(existsSync(target)).to.equal(false);

    const run = await runTsx('bin/restore.ts', [file, '--data-dir', target]);
    expect(run.code, run.stderr).to.equal(0);
    expect(linesOf(run.stdout)).to.have.length(1);
    expect(run.stdout).to.include(`into ${target}: 0 events`);
    expect(existsSync(join(target, 'tidings.db'))).to.equal(true);
  });

  it('backup and restore: refuse an empty --data-dir rather than take the default folder', async () => {
    const target = join(tempDir(), 'copy');
    expect(
      expectRefused(await runTsx('bin/backup.ts', [target, '--data-dir', '']), 'backup'),
    ).to.include('--data-dir names no folder');
    expect(existsSync(target)).to.equal(false);
    expect(
      expectRefused(await runTsx('bin/restore.ts', [target, '--data-dir', '']), 'restore'),
    ).to.include('--data-dir names no folder');
  });

  it('backup and restore: take relative paths from where npm was run (INIT_CWD), not the package folder', async () => {
    const caller = tempDir();
    await openTempStore(join(caller, 'data')).close();
    const backup = await runTsx('bin/backup.ts', ['copy', '--data-dir', 'data'], {
      INIT_CWD: caller,
    });
    expect(backup.code, backup.stderr).to.equal(0);
    expect(backup.stdout).to.include(`wrote ${join(caller, 'copy')}:`);
    expect(existsSync(join(caller, 'copy'))).to.equal(true);

    const restore = await runTsx('bin/restore.ts', ['copy', '--data-dir', 'restored'], {
      INIT_CWD: caller,
    });
    expect(restore.code, restore.stderr).to.equal(0);
    expect(restore.stdout).to.include(`into ${join(caller, 'restored')}:`);
    expect(existsSync(join(caller, 'restored', 'tidings.db'))).to.equal(true);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`backup: stopped by ${signal} while it copies, removes its partial copy and exits ${code}`, async () => {
      const folder = tempDir();
      const target = join(folder, 'copy');
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--import',
          './test/support/slowBackupCopy.ts',
          'bin/backup.ts',
          target,
        ],
        {
          cwd: projectRoot,
          env: commandEnvironment({ TIDINGS_DATA_DIR: store }),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = once(child, 'close');
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          if (stdout.includes(COPY_STARTED)) resolve();
        });
        child.once('close', () => {
          reject(new Error(`the backup ended before its copy began: ${stdout}${stderr}`));
        });
      });
      // The copy is under way: its partial file (and SQLite's journal of it) is beside the target.
      const partial = readdirSync(folder);
      expect(partial.length).to.be.greaterThan(0);
      for (const name of partial) expect(name).to.match(/^\.copy\.\d+\.partial(-journal)?$/);
      child.kill(signal);
      const [exitCode, killedBy] = (await exited) as [number | null, string | null];
      expect({ exitCode, killedBy }, stderr).to.deep.equal({ exitCode: code, killedBy: null });
      expect(stderr).to.equal(`backup: stopped by ${signal}; the partial copy is removed\n`);
      expect(readdirSync(folder)).to.deep.equal([]);
    });
  }

  it('rebuild-projections: refuses a folder a restore left unfinished, and makes no store in it', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'tidings.db.restoring'), 'half a copy');
    writeFileSync(join(dataDir, 'admin-token'), 'tda_abackuptoken0123456789\n');
    const run = await runTsx('bin/rebuild.ts', [], { TIDINGS_DATA_DIR: dataDir });
    expect(run.code, run.stderr).to.equal(2);
    expect(linesOf(run.stderr)).to.deep.equal([
      `rebuild: data folder ${dataDir} holds tidings.db.restoring, left by a restore that did not finish: run the restore again (npm run restore -- <file>), which clears what it left, or empty the folder to start on a new store`,
    ]);
    expect(existsSync(join(dataDir, 'tidings.db'))).to.equal(false);
  });
});
