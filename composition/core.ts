import type { EventStore } from '../domain/shared/eventStore.js';
import type { Logger } from '../domain/shared/logger.js';
import type { StateCache } from '../domain/shared/stateCache.js';
import {
  ProcessorRunner,
  type Processor,
  type RunnerOptions,
} from '../application/processing/processor.js';
import type { Settings } from '../adapters/config/settings.js';
import type { SqliteDatabase } from '../adapters/sqlite/database.js';
import type { CheckpointStore } from '../adapters/sqlite/checkpointStore.js';
import type { Metrics } from '../adapters/http/metrics.js';
import type { ErasableLog } from '../application/erasure/erasableLog.js';
import type { Checkpoints } from '../application/processing/checkpoints.js';
import type { AttemptClaims } from '../application/shared/attemptClaims.js';
import type { SharedDatabase } from './sharedDatabase.js';
import type { PersistentDeliveryClient } from '../adapters/eventstoredb/persistentDelivery.js';

/** What every builder after the data folder needs: the settings, the stores, logs and metrics. */
export interface Core {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly store: EventStore;
  readonly db: SqliteDatabase;
  readonly checkpoints: CheckpointStore;
  readonly metrics: Metrics;
  /**
   * Folded aggregate states, shared by every writer of this process (it alone owns the data
   * folder), so commands on freshly written streams skip reading and folding them again.
   */
  readonly cache: StateCache;
  /**
   * Erasure's access to the log (docs/audit.md, "Erasure"): the embedded store's or the shared
   * PostgreSQL log's; absent on EventStoreDB and on a read-only folder.
   */
  readonly erasable?: ErasableLog;
  /** With TIDINGS_DATABASE_URL: the database this node shares with the deployment's others. */
  readonly shared?: SharedDatabase;
  /** With several nodes: the claims that give each delivery or callback attempt to one node. */
  readonly claims?: AttemptClaims;
  /**
   * With `TIDINGS_ESDB_DELIVERY_GROUP`: EventStoreDB's persistent-subscription calls, through
   * which the nodes share the deliveries (composition/groupDelivery.ts).
   */
  readonly deliveryGroups?: { readonly client: PersistentDeliveryClient; readonly name: string };
}

/**
 * A runner for a processor, with its checkpoint in the data folder (or in `checkpoints`) and its
 * name on its logs.
 */
export const runnerFor = (
  core: Core,
  processor: Processor,
  { checkpoints, ...options }: RunnerOptions & { readonly checkpoints?: Checkpoints } = {},
): ProcessorRunner =>
  new ProcessorRunner(
    core.store,
    checkpoints ?? core.checkpoints,
    processor,
    core.logger.child({ processor: processor.name }),
    // A shared database that was away for a while is back within a second of its return.
    core.shared === undefined ? options : { maxRetryDelayMs: SHARED_RETRY_CAP_MS, ...options },
  );

/** Longest pause before a failed batch is tried again, with a shared database. */
const SHARED_RETRY_CAP_MS = 1_000;
