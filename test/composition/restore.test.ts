import Database from 'better-sqlite3';
import { expect } from 'chai';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupDataFolder } from '../../composition/backup.js';
import { restoreDataFolder } from '../../composition/restore.js';
import { lockDataDir } from '../../adapters/config/dataDirLock.js';
import { SCHEMA_VERSION } from '../../adapters/sqlite/database.js';
import { BACKUP_FORMAT } from '../../adapters/sqlite/backupFile.js';
import { expectDone, expectRefusal } from '../support/backups.js';
import { interceptFsCalls, type FsFunctionName } from '../support/fsCalls.js';
import { openTempStore } from '../support/sqliteStore.js';
import { event } from '../support/storeReads.js';

const ESDB = 'esdb://localhost:2113?tls=false';
const ADMIN = 'tda_restoredoperatortoken0123456789';
const AUDIT = 'tdu_restoredauditortoken0123456789';

describe('restoreDataFolder', function () {
  this.timeout(20_000);
  const dirs: string[] = [];
  let backup: string;
  let events: number;

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-restore-'));
    dirs.push(dir);
    return dir;
  };

  /** A copy of the backup to spoil. */
  const copyOfBackup = (): string => {
    const file = join(tempDir(), 'copy');
    copyFileSync(backup, file);
    return file;
  };

  const restore = (file: string, dataDir: string, eventStoreConnectionString?: string) =>
    restoreDataFolder({
      settings: {
        dataDir,
        ...(eventStoreConnectionString === undefined ? {} : { eventStoreConnectionString }),
      },
      file,
    });

  before(async () => {
    const source = tempDir();
    const temp = openTempStore(source);
    for (let index = 0; index < 300; index += 1) {
      await temp.store.appendToStream(
        `order-${index}`,
        [event('OrderPlaced', { index, note: 'x'.repeat(200) })],
        { expectedRevision: 'no_stream' },
      );
    }
    await temp.close();
    writeFileSync(join(source, 'admin-token'), `${ADMIN}\n`, { mode: 0o600 });
    writeFileSync(join(source, 'audit-token'), `${AUDIT}\n`, { mode: 0o600 });
    backup = join(tempDir(), 'store.tidings-backup');
    const summary = expectDone(
      await backupDataFolder({ settings: { dataDir: source }, target: backup }),
    );
    events = summary.manifest.events;
    expect(events).to.equal(300);
  });

  after(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the store and the folder’s files owner-only into a new folder, as a store without the backup’s tables', () => {
    const dataDir = join(tempDir(), 'data');
    const summary = expectDone(restore(backup, dataDir));
    expect(summary.files).to.deep.equal(['admin-token', 'audit-token']);
    expect(summary.manifest.events).to.equal(events);
    expect(statSync(dataDir).mode & 0o777).to.equal(0o700);
    for (const name of ['tidings.db', 'admin-token', 'audit-token']) {
      expect(statSync(join(dataDir, name)).mode & 0o777, name).to.equal(0o600);
    }
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8')).to.equal(`${ADMIN}\n`);
    expect(readFileSync(join(dataDir, 'audit-token'), 'utf8')).to.equal(`${AUDIT}\n`);
    // Nothing half-done is left: no temporary database, none of the lock's files.
    expect(readdirSync(dataDir).sort()).to.deep.equal(['admin-token', 'audit-token', 'tidings.db']);
    const db = new Database(join(dataDir, 'tidings.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
      expect(db.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
      const tables = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .pluck()
        .all();
      expect(tables).to.include('events');
      expect(tables.filter((name) => String(name).startsWith('tidings_backup'))).to.deep.equal([]);
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).to.equal(events);
    } finally {
      db.close();
    }
  });

  it('restores into an empty folder that exists, making it owner-only', () => {
    const dataDir = tempDir();
    expectDone(restore(backup, dataDir));
    expect(statSync(dataDir).mode & 0o777).to.equal(0o700);
    expect(existsSync(join(dataDir, 'tidings.db'))).to.equal(true);
  });

  it('refuses a folder that is not empty, and writes nothing into it', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'keep.txt'), 'mine');
    const refused = expectRefusal(restore(backup, dataDir), 'folder_not_empty');
    expect(refused.message).to.include('keep.txt');
    expect(readdirSync(dataDir)).to.deep.equal(['keep.txt']);
  });

  it('refuses a folder a server holds, naming the holder, and leaves its lock alone', () => {
    const dataDir = tempDir();
    const lock = lockDataDir(dataDir, 'server');
    try {
      const before = readdirSync(dataDir).sort();
      const refused = expectRefusal(restore(backup, dataDir), 'folder_in_use');
      expect(refused.message).to.include(`process ${process.pid} (server)`);
      expect(readdirSync(dataDir).sort()).to.deep.equal(before);
    } finally {
      lock.release();
    }
  });

  /** Bytes of a store some other process left, and of its WAL, that no restore may touch. */
  const FOREIGN = { 'tidings.db': 'another store', 'tidings.db-wal': 'another store’s WAL' };

  /**
   * Restores while, at the first call of `when` (an fs function the restore calls), another
   * process that does not take the lock — a server that starts and crashes, a copy by hand —
   * puts a store and its WAL into the folder.
   */
  const restoreWhileAStoreAppears = (
    when: FsFunctionName,
    dataDir: string,
  ): ReturnType<typeof restore> => {
    let appeared = false;
    const stop = interceptFsCalls([when], () => {
      if (appeared) return;
      appeared = true;
      mkdirSync(dataDir, { recursive: true });
      for (const [name, content] of Object.entries(FOREIGN)) {
        writeFileSync(join(dataDir, name), content);
      }
    });
    try {
      return restore(backup, dataDir);
    } finally {
      stop();
    }
  };

  /** The folder holds the other process's files as they were, and nothing of the restore's. */
  const expectOnlyTheForeignStore = (dataDir: string): void => {
    expect(readdirSync(dataDir).sort()).to.deep.equal(Object.keys(FOREIGN).sort());
    for (const [name, content] of Object.entries(FOREIGN)) {
      expect(readFileSync(join(dataDir, name), 'utf8'), name).to.equal(content);
    }
  };

  it('looks at the folder once it holds the lock: a store that appears before is refused, not replaced', () => {
    // The folder is made just before the lock is taken: the store appears then.
    const dataDir = join(tempDir(), 'data');
    const refused = expectRefusal(
      restoreWhileAStoreAppears('mkdirSync', dataDir),
      'folder_not_empty',
    );
    expect(refused.message).to.include('tidings.db');
    expectOnlyTheForeignStore(dataDir);
  });

  it('refuses to rename over a store that appears while it writes, and takes its own files back', () => {
    // The database is copied in after the one look at the folder: the store appears then.
    const dataDir = join(tempDir(), 'data');
    const refused = expectRefusal(
      restoreWhileAStoreAppears('copyFileSync', dataDir),
      'folder_not_empty',
    );
    expect(refused.message).to.include('tidings.db, tidings.db-wal appeared');
    expectOnlyTheForeignStore(dataDir);
  });

  it('clears what a restore that did not finish left, and restores', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'tidings.db.restoring'), 'half a copy');
    writeFileSync(join(dataDir, 'tidings.db.restoring-journal'), 'its journal');
    writeFileSync(join(dataDir, 'admin-token'), 'tda_anearliertoken0123456789\n');
    writeFileSync(join(dataDir, 'tidings.lock.db'), '');
    const summary = expectDone(restore(backup, dataDir));
    expect([...summary.cleared].sort()).to.deep.equal([
      'admin-token',
      'tidings.db.restoring',
      'tidings.db.restoring-journal',
    ]);
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8')).to.equal(`${ADMIN}\n`);
    expect(readdirSync(dataDir).sort()).to.deep.equal([
      'admin-token',
      'audit-token',
      'tidings.db',
      'tidings.lock.db',
    ]);
  });

  it('refuses what a restore that did not finish left beside other files, naming those, and removes nothing', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'tidings.db.restoring'), 'half a copy');
    writeFileSync(join(dataDir, 'admin-token'), 'tda_anearliertoken0123456789\n');
    writeFileSync(join(dataDir, 'notes.txt'), 'mine');
    const refused = expectRefusal(restore(backup, dataDir), 'folder_not_empty');
    expect(refused.message).to.include('did not finish');
    expect(refused.message).to.include('(notes.txt)');
    expect(readdirSync(dataDir).sort()).to.deep.equal([
      'admin-token',
      'notes.txt',
      'tidings.db.restoring',
    ]);
  });

  it('refuses when the settings name EventStoreDB', () => {
    const dataDir = join(tempDir(), 'data');
    const refused = expectRefusal(restore(backup, dataDir, ESDB), 'eventstoredb');
    expect(refused.message).to.include('EVENTSTORE_CONNECTION_STRING');
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('refuses a backup file that does not exist', () => {
    const dataDir = join(tempDir(), 'data');
    expectRefusal(restore(join(tempDir(), 'absent'), dataDir), 'no_backup_file');
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('refuses a file that is not a Tidings backup: text, another database, a store that is no backup', async () => {
    const folder = tempDir();
    const text = join(folder, 'text');
    writeFileSync(text, 'hello '.repeat(1_000));
    expectRefusal(restore(text, join(folder, 'a')), 'not_a_backup');

    const other = join(folder, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE songs (title TEXT)');
    db.close();
    expectRefusal(restore(other, join(folder, 'b')), 'not_a_backup');

    const store = openTempStore(tempDir());
    await store.close();
    const refused = expectRefusal(
      restore(join(store.dir, 'tidings.db'), join(folder, 'c')),
      'not_a_backup',
    );
    expect(refused.message).to.include('npm run backup');
    for (const name of ['a', 'b', 'c'])
      expect(existsSync(join(folder, name)), name).to.equal(false);
  });

  it('refuses a truncated backup as damaged', () => {
    const file = copyOfBackup();
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const dataDir = join(tempDir(), 'data');
    expectRefusal(restore(file, dataDir), 'corrupt');
    expect(existsSync(dataDir)).to.equal(false);
  });

  /** A copy of the backup with one page overwritten with noise. */
  const withDamagedPage = (pageOf: string): string => {
    const file = copyOfBackup();
    const db = new Database(file, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const page = db.prepare(pageOf).pluck().get();
    db.close();
    expect(page).to.be.a('number').and.greaterThan(1);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, ((page as number) - 1) * pageSize);
    closeSync(fd);
    return file;
  };

  it('refuses a backup with a damaged page of its log as damaged', () => {
    const file = withDamagedPage("SELECT max(pageno) FROM dbstat WHERE name = 'events'");
    expectRefusal(restore(file, join(tempDir(), 'data')), 'corrupt');
  });

  /**
   * A copy of the backup whose index `events_by_type` no longer matches its table: SQLite reads
   * it without complaint, only its integrity check finds it (the index is hidden from the
   * schema while the table changes, then put back).
   */
  const withStaleIndex = (): string => {
    const file = copyOfBackup();
    let db = new Database(file);
    const index = db
      .prepare<[], { type: string; name: string; tbl_name: string; rootpage: number; sql: string }>(
        "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema WHERE name = 'events_by_type'",
      )
      .get();
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.prepare("DELETE FROM sqlite_schema WHERE name = 'events_by_type'").run();
    db.close();
    db = new Database(file);
    db.prepare("UPDATE events SET type = 'Edited' WHERE position = 1").run();
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.prepare(
      'INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES (?, ?, ?, ?, ?)',
    ).run(index?.type, index?.name, index?.tbl_name, index?.rootpage, index?.sql);
    db.close();
    return file;
  };

  it('refuses a backup that fails SQLite’s integrity check although it reads', () => {
    const dataDir = join(tempDir(), 'data');
    const refused = expectRefusal(restore(withStaleIndex(), dataDir), 'corrupt');
    expect(refused.message).to.include('integrity check');
    expect(refused.message).to.include('events_by_type');
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('refuses a backup whose log does not match its manifest', () => {
    const file = copyOfBackup();
    const db = new Database(file);
    db.prepare('DELETE FROM events WHERE position = (SELECT max(position) FROM events)').run();
    db.close();
    const refused = expectRefusal(restore(file, join(tempDir(), 'data')), 'corrupt');
    expect(refused.message).to.include(`${events - 1} events`);
  });

  it('refuses a backup in a newer format, and one of a newer schema', () => {
    const newerFormat = copyOfBackup();
    let db = new Database(newerFormat);
    db.prepare('UPDATE tidings_backup_manifest SET format = ?').run(BACKUP_FORMAT + 1);
    db.close();
    const refused = expectRefusal(restore(newerFormat, join(tempDir(), 'data')), 'newer_format');
    expect(refused.message).to.include(`format ${BACKUP_FORMAT + 1}`);

    const newerSchema = copyOfBackup();
    db = new Database(newerSchema);
    db.prepare('UPDATE tidings_backup_manifest SET schema_version = ?').run(SCHEMA_VERSION + 1);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expectRefusal(restore(newerSchema, join(tempDir(), 'data')), 'newer_store');
  });

  it('refuses a backup that would write outside the folder, over the store, or any file not the folder’s own', () => {
    for (const name of [
      '../escape',
      'tidings.db',
      'tidings.lock',
      'notes.txt',
      'admin-token.old',
    ]) {
      const file = copyOfBackup();
      const db = new Database(file);
      db.prepare('INSERT INTO tidings_backup_files (name, content) VALUES (?, ?)').run(
        name,
        Buffer.from('x'),
      );
      db.close();
      const parent = tempDir();
      const dataDir = join(parent, 'data');
      expectRefusal(restore(file, dataDir), 'corrupt');
      expect(readdirSync(parent), name).to.deep.equal([]);
    }
  });
});
