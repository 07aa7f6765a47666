import Database from 'better-sqlite3';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { BackupRefusal } from '../../adapters/sqlite/backupRefusal.js';

/**
 * Reading a backup file the way a test checks it: straight through SQLite, not through the
 * code under test.
 */

/** The manifest row, as stored. */
export interface StoredManifest {
  readonly format: number;
  readonly created_at: string;
  readonly head_position: number;
  readonly events: number;
  readonly schema_version: number;
  readonly source: string;
}

/** What a backup file holds, read read-only. */
export interface BackupFacts {
  readonly integrity: string[];
  readonly journalMode: string;
  readonly manifest: StoredManifest | undefined;
  readonly files: Readonly<Record<string, string>>;
  /** The log's last position in the copy. */
  readonly head: number;
  /** The streams of the copy's log. */
  readonly streams: ReadonlySet<string>;
  /** Each processor's checkpoint, by name. */
  readonly checkpoints: Readonly<Record<string, string>>;
}

export const backupFacts = (file: string): BackupFacts => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      integrity: (
        db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]
      ).map((row) => row.integrity_check),
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      manifest: db.prepare<[], StoredManifest>('SELECT * FROM tidings_backup_manifest').get(),
      files: Object.fromEntries(
        db
          .prepare<[], { name: string; content: Buffer }>(
            'SELECT name, content FROM tidings_backup_files',
          )
          .all()
          .map((row) => [row.name, row.content.toString('utf8')]),
      ),
      head:
        db.prepare<[], number>('SELECT coalesce(max(position), 0) FROM events').pluck().get() ?? 0,
      streams: new Set(db.prepare<[], string>('SELECT DISTINCT stream FROM events').pluck().all()),
      checkpoints: Object.fromEntries(
        db
          .prepare<[], { name: string; position: string }>('SELECT name, position FROM checkpoints')
          .all()
          .map((row) => [row.name, row.position]),
      ),
    };
  } finally {
    db.close();
  }
};

/** The refusal a result must be, with its code. */
export const expectRefusal = <A>(
  result: E.Either<BackupRefusal, A>,
  code: BackupRefusal['code'],
): BackupRefusal => {
  if (E.isRight(result)) expect.fail(`expected the refusal ${code}, got a result`);
  const refused = result.left;
  expect(refused.code, refused.message).to.equal(code);
  expect(refused.message).to.be.a('string').and.not.equal('');
  expect(refused.message).to.not.include('\n');
  return refused;
};

/** The result, which must not be a refusal. */
export const expectDone = <A>(result: E.Either<BackupRefusal, A>): A => {
  if (E.isLeft(result)) expect.fail(`refused: ${result.left.code}: ${result.left.message}`);
  return result.right;
};
