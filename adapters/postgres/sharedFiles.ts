import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Migration } from './migrations.js';
import type { PgPool } from './pool.js';

/**
 * The deployment's identity and the data-folder files every node must hold alike (the device
 * secrets key, the audit signing key, generated tokens): kept in the shared database so that a
 * node started on an empty folder gets the same ones. Protect the database as you protect a data
 * folder: it holds these keys beside the log they open.
 */
export const sharedFileMigrations: readonly Migration[] = [
  {
    name: 'deployment-1',
    sql: `
      CREATE TABLE tidings_deployment (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE tidings_folder_files (
        name text PRIMARY KEY,
        content bytea NOT NULL,
        written_by text NOT NULL,
        written_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

/** The deployment's id, made by the first node that asks (one row, whoever wins the race). */
export const deploymentIdOf = async (pool: PgPool): Promise<string> => {
  await pool.query('INSERT INTO tidings_deployment (id) VALUES ($1) ON CONFLICT DO NOTHING', [
    randomUUID(),
  ]);
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM tidings_deployment');
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('tidings_deployment has no row');
  return id;
};

/** What {@link shareFolderFiles} did with each file. */
export type SharedFileOutcome = 'fetched' | 'published' | 'same' | 'absent';

/**
 * Makes each of `names` in `dataDir` the deployment's: a file the database holds is written to
 * the folder (owner-only); one only the folder holds is published for the other nodes (the first
 * node of a deployment, or a single node becoming the first of several); one neither holds is
 * made by `generate` (the server's own resolver writes it into the folder; it may decline, e.g. a
 * token the environment sets) and published — and when another node published its own first,
 * that one replaces the file just made, which nothing has read yet. A folder file that differs
 * from the database's stops the start: the folder belongs to another deployment. Call it before
 * anything reads these files.
 */
export const shareFolderFiles = async (
  pool: PgPool,
  dataDir: string,
  names: readonly string[],
  nodeId: string,
  generate: (name: string) => void,
): Promise<ReadonlyMap<string, SharedFileOutcome>> => {
  const outcomes = new Map<string, SharedFileOutcome>();
  for (const name of names) {
    outcomes.set(name, await shareOne(pool, dataDir, name, nodeId, generate));
  }
  return outcomes;
};

const shareOne = async (
  pool: PgPool,
  dataDir: string,
  name: string,
  nodeId: string,
  generate: (name: string) => void,
): Promise<SharedFileOutcome> => {
  const file = join(dataDir, name);
  const fetched = await sharedContent(pool, name);
  let made = false;
  if (fetched === undefined && !existsSync(file)) {
    generate(name);
    made = existsSync(file);
  }
  const local = existsSync(file) ? readFileSync(file) : undefined;
  if (local !== undefined) {
    await pool.query(
      'INSERT INTO tidings_folder_files (name, content, written_by) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
      [name, local, nodeId],
    );
  }
  const shared = await sharedContent(pool, name);
  if (shared === undefined) return 'absent';
  if (local === undefined || (made && !local.equals(shared))) {
    writeFileSync(file, shared, { mode: 0o600 });
    chmodSync(file, 0o600);
    return 'fetched';
  }
  if (made) return 'published';
  if (!local.equals(shared)) {
    throw new Error(
      `${file} differs from the deployment's ${name} in TIDINGS_DATABASE_URL: this data folder belongs to another deployment. Start this node on an empty TIDINGS_DATA_DIR`,
    );
  }
  return fetched === undefined ? 'published' : 'same';
};

const sharedContent = async (pool: PgPool, name: string): Promise<Buffer | undefined> =>
  (
    await pool.query<{ content: Buffer }>(
      'SELECT content FROM tidings_folder_files WHERE name = $1',
      [name],
    )
  ).rows[0]?.content;
