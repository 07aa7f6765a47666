import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linesOf, runTsx } from '../support/commands.js';
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
});
