import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Settings } from '../adapters/config/settings.js';
import {
  ADMIN_TOKEN_FILE,
  AUDIT_SIGNING_KEY_FILE,
  AUDIT_TOKEN_FILE,
  DEVICE_SECRETS_KEY_FILE,
} from '../adapters/config/dataFolderFiles.js';
import { resolveToken } from '../adapters/config/tokens.js';
import { resolveDeviceSecretsKey } from '../adapters/config/deviceSecretsKey.js';
import { resolveAuditSigningKey } from '../adapters/config/auditSigningKey.js';
import { claimDeployment, type SqliteDatabase } from '../adapters/sqlite/database.js';
import { migrate, type Migration } from '../adapters/postgres/migrations.js';
import { openPool, type PgPool } from '../adapters/postgres/pool.js';
import { eventLogMigrations, PgEventStore } from '../adapters/postgres/pgEventStore.js';
import {
  deploymentIdOf,
  shareFolderFiles,
  sharedFileMigrations,
} from '../adapters/postgres/sharedFiles.js';
import type { StopStack } from './stopStack.js';
import { decodePosition, type Position } from '../domain/shared/eventStore.js';
import type { AttemptClaims } from '../application/shared/attemptClaims.js';
import { PgWorkClaims, workClaimMigrations } from '../adapters/postgres/workClaims.js';
import { leaseMigrations } from '../adapters/postgres/leases.js';
import { idempotencyMigrations } from '../adapters/postgres/pgIdempotency.js';
import { rateLimitMigrations } from '../adapters/postgres/pgRateLimits.js';

/** The shared PostgreSQL database of a deployment of several nodes, as one node holds it. */
export interface SharedDatabase {
  readonly pool: PgPool;
  readonly store: PgEventStore;
  /** This node's name (`TIDINGS_NODE_ID`): in `/readyz`, logs and the events it writes. */
  readonly nodeId: string;
  /**
   * This process's name in leases, claims and Idempotency-Keys: the node's name and a random
   * part, so two processes started with one TIDINGS_NODE_ID (a copied setting, a restart while the
   * old process still runs) never take each other's leases or claims for their own.
   */
  readonly processId: string;
  readonly deploymentId: string;
}

/** Every step of the shared schema, in order (adapters/postgres/migrations.ts). */
export const sharedMigrations: readonly Migration[] = [
  ...eventLogMigrations,
  ...sharedFileMigrations,
  ...leaseMigrations,
  ...workClaimMigrations,
  ...idempotencyMigrations,
  ...rateLimitMigrations,
];

/**
 * Connects to the deployment's database, creates or migrates its schema (safe when several nodes
 * start at once), ties the data folder to the deployment (its read models are built from this
 * log) and gives the folder the deployment's keys and tokens, made by whichever node came first.
 */
export const openSharedDatabase = async (
  settings: Settings,
  url: string,
  db: SqliteDatabase,
  stops: StopStack,
): Promise<SharedDatabase> => {
  const nodeId = settings.nodeId ?? `${hostname()}:${settings.port}:${process.pid}`;
  const pool = openPool(url, { max: 20 });
  stops.push(() => pool.end());
  await migrate(pool, sharedMigrations);
  const deploymentId = await deploymentIdOf(pool);
  claimDeployment(db, deploymentId);
  await shareFolderFiles(
    pool,
    settings.dataDir,
    [ADMIN_TOKEN_FILE, AUDIT_TOKEN_FILE, DEVICE_SECRETS_KEY_FILE, AUDIT_SIGNING_KEY_FILE],
    nodeId,
    (name) => {
      generateFolderFile(settings, name);
    },
  );
  const store = await PgEventStore.open(pool, { node: nodeId });
  stops.push(() => store.close());
  refuseFolderAhead(db, await store.headPosition());
  const processId = `${nodeId}.${randomUUID().slice(0, 8)}`;
  return { pool, store, nodeId, processId, deploymentId };
};

/**
 * Refuses a folder whose read models went further than the shared log now reaches: the database
 * was restored from an older backup (or replaced), and those read models show events the log no
 * longer has. (A log restored and then grown past the folder's checkpoints again is not noticed:
 * README "Running several nodes", backups.)
 */
export const refuseFolderAhead = (db: SqliteDatabase, head: Position | undefined): void => {
  const rows = db.prepare<[], { name: string; position: string }>(
    'SELECT name, position FROM checkpoints',
  );
  const headCommit = head?.commit ?? 0n;
  for (const row of rows.iterate()) {
    const position = decodePosition(row.position);
    if (position === undefined || position.commit <= headCommit) continue;
    throw new Error(
      `this data folder's read models reach position ${position.commit.toString()} (${row.name}), but the log in TIDINGS_DATABASE_URL ends at ${headCommit.toString()}: the database was restored from an older backup or replaced. Start this node on an empty TIDINGS_DATA_DIR`,
    );
  }
};

/** Makes a folder file the way the server's start would, so that it can be shared at once. */
const generateFolderFile = (settings: Settings, name: string): void => {
  switch (name) {
    case ADMIN_TOKEN_FILE:
      resolveToken(settings.adminToken, settings.dataDir, ADMIN_TOKEN_FILE, 'tda_');
      return;
    case AUDIT_TOKEN_FILE:
      resolveToken(settings.auditToken, settings.dataDir, AUDIT_TOKEN_FILE, 'tdu_');
      return;
    case DEVICE_SECRETS_KEY_FILE:
      resolveDeviceSecretsKey(settings.dataDir);
      return;
    case AUDIT_SIGNING_KEY_FILE:
      resolveAuditSigningKey(settings.dataDir);
      return;
    default:
      throw new Error(`no way to make ${name}`);
  }
};

/**
 * How long a node holds the claim of one attempt: the longest a send and its record take (a
 * channel's 5 s limit, a callback's 10 s, the record's append), with room to spare. A node that
 * dies mid-attempt delays that attempt by at most this much; another node then makes it again.
 */
const ATTEMPT_HOLD_MS = 30_000;

/**
 * How long a done claim is kept: it only matters while a node's read model may still show the
 * attempt as due (it lags behind the record), which is seconds; a day is far beyond that.
 */
const KEEP_DONE_CLAIMS_MS = 24 * 60 * 60_000;

/** The claims that give each delivery or callback attempt to one node (application/shared/attemptClaims.ts). */
export const attemptClaimsOf = (shared: SharedDatabase): AttemptClaims => {
  const claims = new PgWorkClaims(shared.pool, { keepDoneMs: KEEP_DONE_CLAIMS_MS });
  return {
    holdMs: ATTEMPT_HOLD_MS,
    claim: (key) => claims.claim(key, shared.processId, ATTEMPT_HOLD_MS),
    done: async (key) => {
      await claims.complete(key, shared.processId);
    },
  };
};
