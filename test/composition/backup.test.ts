import Database from 'better-sqlite3';
import { expect } from 'chai';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePosition } from '../../domain/shared/eventStore.js';
import { backupDataFolder, type BackupRequest } from '../../composition/backup.js';
import { openDatabase, SCHEMA_VERSION } from '../../adapters/sqlite/database.js';
import { BACKUP_FORMAT } from '../../adapters/sqlite/backupFile.js';
import { backupFacts, expectDone, expectRefusal } from '../support/backups.js';
import { startPushing, UNLIMITED_PUSHES } from '../support/pushLoop.js';
import {
  bindWithoutDevice,
  createPipelineApp,
  messageEvents,
  startPipelineServer,
} from '../support/pipeline.js';
import { openTempStore } from '../support/sqliteStore.js';
import type { TestServer } from '../support/testServer.js';

const ESDB = 'esdb://localhost:2113?tls=false';

describe('backupDataFolder', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const servers: TestServer[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-backup-'));
    dirs.push(dir);
    return dir;
  };

  /** A data folder with a store in it (an empty log), as a stopped server leaves it. */
  const storeFolder = async (): Promise<string> => {
    const dir = tempDir();
    const temp = openTempStore(dir);
    await temp.close();
    return dir;
  };

  const request = (
    dataDir: string,
    target: string,
    extra: Partial<BackupRequest> = {},
  ): BackupRequest => ({
    settings: { dataDir },
    target,
    ...extra,
  });

  after(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('copies the store while a server keeps accepting pushes: one consistent snapshot, taken between the writes', async () => {
    const server = await startPipelineServer({ dir: tempDir(), env: UNLIMITED_PUSHES });
    servers.push(server);
    const app = await createPipelineApp(server);
    const person = await bindWithoutDevice(server, app);
    const pushes = startPushing(server, app, person);
    while (pushes.accepted.length < 20) await new Promise((resolve) => setTimeout(resolve, 20));

    const before = [...pushes.accepted];
    const acceptedAtStep: number[] = [];
    const target = join(tempDir(), 'copy.tidings-backup');
    const summary = expectDone(
      await backupDataFolder(
        request(server.dir, target, {
          // One page a step: every step yields to the event loop, so the server's commits land
          // between the steps of the copy.
          pagesPerStep: 1,
          onProgress: () => {
            acceptedAtStep.push(pushes.accepted.length);
          },
        }),
      ),
    );
    await pushes.stop();

    // Pushes were accepted while the copy ran, between its first step and its last.
    expect(acceptedAtStep.length).to.be.greaterThan(10);
    expect(acceptedAtStep.at(-1)).to.be.greaterThan(acceptedAtStep[0] ?? Infinity);

    const facts = backupFacts(target);
    expect(facts.integrity).to.deep.equal(['ok']);
    expect(facts.journalMode).to.equal('delete');
    expect(existsSync(`${target}-wal`)).to.equal(false);
    // The manifest describes the copy exactly: the head and count read in the copy's snapshot.
    expect(facts.manifest).to.include({
      format: BACKUP_FORMAT,
      head_position: facts.head,
      schema_version: SCHEMA_VERSION,
    });
    expect(summary.manifest.headPosition).to.equal(facts.head);
    expect(summary.manifest.events).to.equal(facts.manifest?.events);
    // Every message accepted before the backup began is in it, and the head is beyond it.
    for (const messageId of before) {
      expect(facts.streams.has(`message-${messageId}`), messageId).to.equal(true);
      const [submitted] = await messageEvents(server, messageId);
      expect(
        BigInt(facts.head) >= (submitted?.position.commit ?? BigInt(Number.MAX_SAFE_INTEGER)),
      ).to.equal(true);
    }
    // Not torn: no checkpoint in the copy points past the copy's log.
    expect(Object.keys(facts.checkpoints)).to.not.have.length(0);
    for (const [name, text] of Object.entries(facts.checkpoints)) {
      expect(Number(decodePosition(text)?.commit ?? -1n), name).to.be.lessThanOrEqual(facts.head);
    }
    // A snapshot, not a copy that chased the writes: what was sent after it began is not in it.
    const missing = pushes.accepted.filter((id) => !facts.streams.has(`message-${id}`));
    expect(missing.length).to.be.greaterThan(0);
    // The generated auditor token and the device secrets key ride along (the operator's token
    // comes from the environment here).
    expect(facts.files).to.deep.equal({
      'audit-token': readFileSync(join(server.dir, 'audit-token'), 'utf8'),
      'device-secrets.key': readFileSync(join(server.dir, 'device-secrets.key'), 'utf8'),
      'audit-signing-key.pem': readFileSync(join(server.dir, 'audit-signing-key.pem'), 'utf8'),
    });
    expect(summary.files).to.deep.equal([
      'audit-signing-key.pem',
      'audit-token',
      'device-secrets.key',
    ]);
    expect(statSync(target).mode & 0o777).to.equal(0o600);
    expect(summary.bytes).to.equal(statSync(target).size);
  });

  it('reports its progress in pages, ending at the total', async () => {
    const dir = await storeFolder();
    const progress: { done: number; total: number }[] = [];
    const target = join(tempDir(), 'copy');
    expectDone(
      await backupDataFolder(
        request(dir, target, { pagesPerStep: 2, onProgress: (step) => progress.push(step) }),
      ),
    );
    const pages = new Database(join(dir, 'tidings.db'), { readonly: true }).pragma('page_count', {
      simple: true,
    }) as number;
    expect(progress.length).to.be.greaterThan(2);
    expect(progress.every((step) => step.total === pages)).to.equal(true);
    expect(progress.map((step) => step.done)).to.deep.equal(
      [...progress.map((step) => step.done)].sort((a, b) => a - b),
    );
    expect(progress.at(-1)).to.deep.equal({ done: pages, total: pages });
  });

  it('names what it does not copy: entries of the data folder that are not Tidings’s', async () => {
    const dir = await storeFolder();
    writeFileSync(join(dir, 'admin-token'), 'tda_0123456789abcdef0123\n', { mode: 0o600 });
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const summary = expectDone(await backupDataFolder(request(dir, join(tempDir(), 'copy'))));
    expect(summary.files).to.deep.equal(['admin-token']);
    expect(summary.skipped).to.deep.equal(['notes.txt']);
    expect(backupFacts(summary.file).files).to.deep.equal({
      'admin-token': 'tda_0123456789abcdef0123\n',
    });
  });

  it('refuses when the settings name EventStoreDB: the log is not in the folder', async () => {
    const dir = await storeFolder();
    const target = join(tempDir(), 'copy');
    const refused = expectRefusal(
      await backupDataFolder({
        settings: { dataDir: dir, eventStoreConnectionString: ESDB },
        target,
      }),
      'eventstoredb',
    );
    expect(refused.message).to.include('EVENTSTORE_CONNECTION_STRING');
    expect(refused.message).to.include('not in the data folder');
    expect(existsSync(target)).to.equal(false);
  });

  it('refuses a folder whose log is in EventStoreDB even when the settings do not say so', async () => {
    const dir = tempDir();
    const db = openDatabase({ dataDir: dir });
    db.prepare("INSERT INTO folder_facts (name, value) VALUES ('log', 'eventstoredb')").run();
    db.close();
    const refused = expectRefusal(
      await backupDataFolder(request(dir, join(tempDir(), 'copy'))),
      'eventstoredb',
    );
    expect(refused.message).to.include('EventStoreDB');
  });

  it('refuses a data folder that does not exist', async () => {
    const dir = join(tempDir(), 'absent');
    const refused = expectRefusal(
      await backupDataFolder(request(dir, join(tempDir(), 'copy'))),
      'no_data_folder',
    );
    expect(refused.message).to.include(dir);
    expect(existsSync(dir)).to.equal(false);
  });

  it('refuses a folder without a store, and a tidings.db that is not one', async () => {
    const empty = tempDir();
    expectRefusal(await backupDataFolder(request(empty, join(tempDir(), 'a'))), 'not_a_store');
    expect(readdirSync(empty)).to.deep.equal([]);

    const text = tempDir();
    writeFileSync(join(text, 'tidings.db'), 'not a database at all, just some text '.repeat(200));
    expectRefusal(await backupDataFolder(request(text, join(tempDir(), 'b'))), 'not_a_store');

    const other = tempDir();
    const db = new Database(join(other, 'tidings.db'));
    db.exec('CREATE TABLE songs (title TEXT)');
    db.close();
    expectRefusal(await backupDataFolder(request(other, join(tempDir(), 'c'))), 'not_a_store');
  });

  it('refuses a store made by a newer Tidings', async () => {
    const dir = await storeFolder();
    const db = new Database(join(dir, 'tidings.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const refused = expectRefusal(
      await backupDataFolder(request(dir, join(tempDir(), 'copy'))),
      'newer_store',
    );
    expect(refused.message).to.include(String(SCHEMA_VERSION + 1));
  });

  it('refuses a target that exists unless told to replace it, and then replaces it', async () => {
    const dir = await storeFolder();
    const target = join(tempDir(), 'copy');
    writeFileSync(target, 'an older backup');
    const refused = expectRefusal(await backupDataFolder(request(dir, target)), 'target_exists');
    expect(refused.message).to.include('--force');
    expect(readFileSync(target, 'utf8')).to.equal('an older backup');

    expectDone(await backupDataFolder(request(dir, target, { force: true })));
    expect(backupFacts(target).integrity).to.deep.equal(['ok']);
  });

  it('refuses a target in a folder that does not exist, a folder, and one inside the data folder', async () => {
    const dir = await storeFolder();
    const elsewhere = tempDir();
    expectRefusal(
      await backupDataFolder(request(dir, join(elsewhere, 'no', 'copy'))),
      'bad_target',
    );
    mkdirSync(join(elsewhere, 'folder'));
    expectRefusal(
      await backupDataFolder(request(dir, join(elsewhere, 'folder'), { force: true })),
      'bad_target',
    );
    // Not even with --force may it name the store itself.
    expectRefusal(
      await backupDataFolder(request(dir, join(dir, 'tidings.db'), { force: true })),
      'bad_target',
    );
    expectRefusal(await backupDataFolder(request(dir, join(dir, 'copy'))), 'bad_target');
    // A folder whose name starts with two dots is inside it all the same.
    mkdirSync(join(dir, '..snap'));
    const refused = expectRefusal(
      await backupDataFolder(request(dir, join(dir, '..snap', 'copy'))),
      'bad_target',
    );
    expect(refused.message).to.include('inside the data folder');
    expect(readdirSync(join(dir, '..snap'))).to.deep.equal([]);
    expect(readdirSync(elsewhere)).to.deep.equal(['folder']);
  });

  it('takes a target beside the data folder whose name starts with its own', async () => {
    const dir = await storeFolder();
    const target = `${dir}..snap`;
    dirs.push(target);
    expectDone(await backupDataFolder(request(dir, target)));
    expect(backupFacts(target).integrity).to.deep.equal(['ok']);
  });

  it('leaves no partial file behind when the copy fails', async () => {
    const dir = await storeFolder();
    const folder = tempDir();
    const target = join(folder, 'copy');
    let failed: unknown;
    try {
      await backupDataFolder(
        request(dir, target, {
          pagesPerStep: 1,
          onProgress: () => {
            throw new Error('disk full (simulated)');
          },
        }),
      );
    } catch (error) {
      failed = error;
    }
    expect(failed).to.be.instanceOf(Error);
    expect(readdirSync(folder)).to.deep.equal([]);
  });

  it('leaves no partial file behind when sealing the copy fails', async () => {
    // A store that holds a table of the backup's own name: the copy cannot be sealed.
    const dir = await storeFolder();
    const db = new Database(join(dir, 'tidings.db'));
    db.exec('CREATE TABLE tidings_backup_files (name TEXT)');
    db.close();
    const folder = tempDir();
    let failed: unknown;
    try {
      await backupDataFolder(request(dir, join(folder, 'copy')));
    } catch (error) {
      failed = error;
    }
    expect(failed).to.be.instanceOf(Error);
    expect((failed as Error).message).to.include('tidings_backup_files');
    expect(readdirSync(folder)).to.deep.equal([]);
  });
});
