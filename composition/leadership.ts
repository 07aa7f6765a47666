import type { Logger } from '../domain/shared/logger.js';
import { decodePosition, encodePosition, type Position } from '../domain/shared/eventStore.js';
import type { Checkpoints } from '../application/processing/checkpoints.js';
import type { Processor, ProcessorRunner } from '../application/processing/processor.js';
import { LeaseKeeper, PgLeases, type LeaseStatus } from '../adapters/postgres/leases.js';
import { runnerFor, type Core } from './core.js';
import type { SharedDatabase } from './sharedDatabase.js';
import type { StopStack } from './stopStack.js';

/**
 * Work that runs on one node of a deployment at a time, under a lease (README "Running several
 * nodes"): a reactor, the scheduler. `start` begins it from the checkpoint the last holder saved;
 * `stop` ends it and answers how far it got.
 */
export interface LeasedWork {
  readonly name: string;
  start(checkpoint: string | undefined): void | Promise<void>;
  stop(): Promise<string | undefined>;
}

/** This node's leases, for `/readyz` and the tests. */
export interface Leadership {
  /** The names of the leases this node holds now. */
  held(): readonly string[];
  snapshot(): Promise<readonly LeaseStatus[]>;
  /** Reports progress of held work, saved with the next renewal. */
  progress(name: string, checkpoint: string): void;
}

export interface LeaseTimings {
  readonly ttlMs?: number;
  readonly renewIntervalMs?: number;
}

/**
 * Keeps the leases of `work` for this node: each piece runs here only while this node holds its
 * lease, and another node takes it over within ttl + interval (8 s by default) of this one dying.
 * Stopping hands every lease over at once, with its checkpoint.
 */
export const startLeadership = async (
  shared: SharedDatabase,
  work: readonly LeasedWork[],
  logger: Logger,
  stops: StopStack,
  timings: LeaseTimings = {},
): Promise<Leadership> => {
  const byName = new Map(work.map((piece) => [piece.name, piece]));
  const keeper: LeaseKeeper = new LeaseKeeper({
    leases: new PgLeases(shared.pool),
    names: work.map((piece) => piece.name),
    node: shared.processId,
    ...(timings.ttlMs === undefined ? {} : { ttlMs: timings.ttlMs }),
    ...(timings.renewIntervalMs === undefined ? {} : { renewIntervalMs: timings.renewIntervalMs }),
    onAcquired: async (name, checkpoint) => {
      logger.info('lease acquired; starting its work here', { lease: name, node: shared.nodeId });
      await byName.get(name)?.start(checkpoint);
    },
    onLost: async (name) => {
      const reached = await byName.get(name)?.stop();
      if (reached !== undefined) keeper.setCheckpoint(name, reached);
      logger.info('lease given up; its work stopped here', { lease: name, node: shared.nodeId });
    },
    onError: (error, during) => {
      logger.warn('lease keeping failed; trying again next round', { during, error });
    },
  });
  stops.push(() => keeper.stop());
  await keeper.start();
  return {
    held: () => keeper.held(),
    snapshot: () => keeper.snapshot(),
    progress: (name, checkpoint) => {
      keeper.setCheckpoint(name, checkpoint);
    },
  };
};

/** The lease a leased processor runs under, and its checkpoint is saved with. */
export const processorLeaseName = (name: string): string => `processor:${name}`;

/**
 * A processor runner that runs under a lease: its work is made afresh by `make` at each
 * acquisition (so nothing it kept in memory outlives a time another node held it), starts from the
 * lease's checkpoint, and reports its position after each batch.
 */
export const leasedRunner = (
  core: Core,
  make: () => Processor,
  report: (name: string, checkpoint: string) => void,
): { readonly runner: ProcessorRunner; readonly work: LeasedWork } => {
  let current = make();
  const name = current.name;
  const processor: Processor = {
    name,
    ...(current.eventTypes === undefined ? {} : { eventTypes: current.eventTypes }),
    ...(current.savesCheckpoint === undefined ? {} : { savesCheckpoint: current.savesCheckpoint }),
    processBatch: (batch) => current.processBatch(batch),
  };
  const leaseName = processorLeaseName(name);
  // This node's copy of the lease's checkpoint, under a name of its own: a read model may have
  // the reactor's name (`callbacks`), and each must resume from its own position.
  const checkpoints = leasedCheckpoints(core.checkpoints);
  const runner = runnerFor(core, processor, {
    checkpoints,
    onBatch: (batch) => {
      const last = batch.at(-1);
      if (last !== undefined) report(leaseName, encodePosition(last.position));
    },
  });
  return {
    runner,
    work: {
      name: leaseName,
      start: (checkpoint) => {
        current = make();
        adoptCheckpoint(checkpoints, name, checkpoint);
        runner.start();
      },
      stop: async () => {
        await runner.stop();
        return runner.position === undefined ? undefined : encodePosition(runner.position);
      },
    },
  };
};

/** The data folder's checkpoints, each name under `leased:`. */
const leasedCheckpoints = (checkpoints: Checkpoints): Checkpoints => ({
  load: (name: string) => checkpoints.load(`leased:${name}`),
  save: (name: string, position: Position, now?: Date) => {
    checkpoints.save(`leased:${name}`, position, now);
  },
  remove: (name: string) => {
    checkpoints.remove(`leased:${name}`);
  },
});

/** Makes the lease's checkpoint this node's, so the runner resumes where the last holder stopped. */
const adoptCheckpoint = (
  checkpoints: Checkpoints,
  name: string,
  checkpoint: string | undefined,
): void => {
  const position = checkpoint === undefined ? undefined : decodePosition(checkpoint);
  if (position === undefined) checkpoints.remove(name);
  else checkpoints.save(name, position);
};
