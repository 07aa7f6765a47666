import Database from 'better-sqlite3';
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILES } from '../../adapters/config/dataFolderFiles.js';
import { backupDataFolder } from '../../composition/backup.js';
import { restoreDataFolder } from '../../composition/restore.js';
import { expectDone } from '../support/backups.js';
import { runTsx } from '../support/commands.js';
import { createApp } from '../support/httpFixtures.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';

/** No tokens in the environment: the server takes (or makes) the ones in its folder. */
const FOLDER_TOKENS = { TIDINGS_ADMIN_TOKEN: '', TIDINGS_AUDIT_TOKEN: '' };

/** What the folder held after the kill. */
type AfterKill = 'nothing' | 'unfinished' | 'restored';

describe('a restore killed midway', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  const servers: TestServer[] = [];
  let backup: string;
  let events: number;
  let tokens: Readonly<Record<string, string>>;

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-killed-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    const original = await startTestServer({ dir: tempDir(), env: FOLDER_TOKENS });
    servers.push(original);
    await createApp({ base: original.base, adminToken: original.tidings.adminToken });
    await original.stop();
    tokens = Object.fromEntries(
      ['admin-token', 'audit-token', 'device-secrets.key', 'audit-signing-key.pem'].map((name) => [
        name,
        readFileSync(join(original.dir, name), 'utf8'),
      ]),
    );
    backup = join(tempDir(), 'store.tidings-backup');
    events = expectDone(
      await backupDataFolder({ settings: { dataDir: original.dir }, target: backup }),
    ).manifest.events;
    expect(events).to.be.greaterThan(0);
  });

  after(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** The folder's entries but the lock's files. */
  const entriesOf = (dataDir: string): string[] =>
    existsSync(dataDir)
      ? readdirSync(dataDir)
          .filter((name) => !LOCK_FILES.includes(name))
          .sort()
      : [];

  /** The folder holds the whole backup: its log, as a store, and the original's tokens. */
  const expectRestored = (dataDir: string): void => {
    expect(entriesOf(dataDir)).to.deep.equal([
      'admin-token',
      'audit-signing-key.pem',
      'audit-token',
      'device-secrets.key',
      'tidings.db',
    ]);
    for (const [name, content] of Object.entries(tokens)) {
      expect(readFileSync(join(dataDir, name), 'utf8'), name).to.equal(content);
    }
    const db = new Database(join(dataDir, 'tidings.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).to.equal(events);
      expect(
        db
          .prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'tidings_backup%'")
          .pluck()
          .get(),
      ).to.equal(0);
    } finally {
      db.close();
    }
  };

  /** Why a server does not start on the folder; fails the test if it starts. */
  const startRefusal = async (dataDir: string): Promise<string> => {
    let server: TestServer;
    try {
      server = await startTestServer({ dir: dataDir, env: FOLDER_TOKENS });
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    await server.stop();
    return expect.fail(`a server started on ${dataDir}, holding ${entriesOf(dataDir).join(', ')}`);
  };

  /**
   * What a kill left: nothing that passes for a store (at most the lock's files), a finished
   * store, or an unfinished restore, on which a server refuses to start, saying what to do.
   * Unless finished, a restore run again finishes it.
   */
  const afterKill = async (dataDir: string): Promise<AfterKill> => {
    const entries = entriesOf(dataDir);
    if (entries.includes('tidings.db')) {
      expectRestored(dataDir);
      return 'restored';
    }
    let found: AfterKill = 'nothing';
    if (entries.includes('tidings.db.restoring')) {
      found = 'unfinished';
      const refused = await startRefusal(dataDir);
      expect(refused).to.include(`${dataDir} holds tidings.db.restoring`);
      expect(refused).to.include('run the restore again');
      expect(entriesOf(dataDir), 'the refused start').to.deep.equal(entries);
    } else {
      expect(entries, 'a folder that is neither empty nor restored').to.deep.equal([]);
    }
    const again = expectDone(restoreDataFolder({ settings: { dataDir }, file: backup }));
    expect([...again.cleared].sort()).to.deep.equal(found === 'unfinished' ? entries : []);
    expectRestored(dataDir);
    return found;
  };

  it('leaves no folder a server starts on as if restored, and a restore run again finishes it', async () => {
    const outcomes: AfterKill[] = [];
    let retried: string | undefined;
    // Killed before the first, the second, … change to the folder, until one leaves it restored.
    for (let at = 1; outcomes.at(-1) !== 'restored'; at += 1) {
      expect(at, 'changes to the folder').to.be.lessThan(20);
      const dataDir = join(tempDir(), 'data');
      const run = await runTsx('test/support/restoreUntilKilled.ts', [backup, dataDir, String(at)]);
      expect(run.code, `killed before change ${at}: ${run.stdout}${run.stderr}`).to.equal(null);
      const outcome = await afterKill(dataDir);
      outcomes.push(outcome);
      if (outcome === 'unfinished') retried = dataDir;
    }
    // Killed while it copied, and while it wrote the tokens: the folder was marked unfinished.
    expect(outcomes.filter((outcome) => outcome === 'unfinished').length).to.be.greaterThan(2);

    // A server starts on a folder that a second restore finished, with the original's tokens.
    expect(retried).to.be.a('string');
    const copy = await startTestServer({ dir: retried ?? '', env: FOLDER_TOKENS });
    servers.push(copy);
    expect(copy.tidings.adminToken).to.equal(tokens['admin-token']?.trim());
    const apps = await call<{ items: { name: string }[] }>(copy.base, 'GET', '/v1/admin/apps', {
      token: copy.tidings.adminToken,
    });
    expect(apps.status, JSON.stringify(apps.body)).to.equal(200);
    expect(apps.body.items.map((app) => app.name)).to.include('Work orders');
  });
});
