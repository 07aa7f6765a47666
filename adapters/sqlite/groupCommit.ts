import type * as E from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../domain/shared/eventStore.js';
import type { SqliteDatabase } from './database.js';
import type { StreamAppend, StreamAppender } from './streamAppender.js';

/** An append waiting for the next group commit, with the promise that answers it. */
interface PendingAppend extends StreamAppend {
  readonly resolve: (outcome: E.Either<WrongExpectedRevision, AppendResult>) => void;
  readonly reject: (error: unknown) => void;
}

type AppendOutcome = { ok: E.Either<WrongExpectedRevision, AppendResult> } | { error: unknown };

/** A committed group of appends, not answered yet (walSyncQueue.ts answers them). */
export interface Committed {
  readonly batch: readonly PendingAppend[];
  readonly outcomes: readonly AppendOutcome[];
  /** Log head before this commit: its events are the positions after it. */
  readonly headBefore: number;
  /** Log head after this commit. */
  readonly headAfter: number;
  /** The events it wrote, in position order, as a read of the database would give them. */
  readonly written: readonly RecordedEvent[];
}

/** Transactions committed and appends they carried. */
export interface GroupCommitStats {
  readonly commits: number;
  readonly appends: number;
}

/**
 * Group commit: appends that arrive while the event loop is busy are committed together in one
 * transaction on its next turn, each inside its own savepoint so one append's failure does not
 * undo another's. Committing is all it does; the caller is handed each commit to answer.
 */
export class GroupCommit {
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private commits = 0;
  private appends = 0;
  /** One append in its own savepoint (a transaction inside the group's is a savepoint). */
  private readonly appendOne;

  /**
   * @param head reads the log's current head from the database
   * @param onCommitted takes each commit, right after it: the appends wait for it to answer them
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly appender: StreamAppender,
    private readonly head: () => number,
    private readonly onCommitted: (committed: Committed) => void,
  ) {
    this.appendOne = db.transaction((append: PendingAppend, written: RecordedEvent[]) =>
      appender.append(append, written),
    );
  }

  /** Counters since this object was made. */
  get stats(): GroupCommitStats {
    return { commits: this.commits, appends: this.appends };
  }

  /** Queues `append` for the next commit; settles when that commit's caller answers it. */
  enqueue({
    stream,
    events,
    options,
  }: StreamAppend): Promise<E.Either<WrongExpectedRevision, AppendResult>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, events, options, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flush();
        });
      }
    });
  }

  /** Commits what is queued now rather than on the next turn of the event loop. */
  flushNow(): void {
    if (this.flushScheduled) this.flush();
  }

  /** Commits every queued append in one transaction and hands the commit on. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: AppendOutcome[] = [];
    const written: RecordedEvent[] = [];
    let headBefore = 0;
    let headAfter = 0;
    try {
      this.db.transaction(() => {
        headBefore = this.head();
        this.appender.beginGroup();
        for (const append of batch) {
          try {
            outcomes.push({ ok: this.appendOne(append, written) });
          } catch (error) {
            outcomes.push({ error });
          }
        }
        headAfter = this.head();
      })();
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      for (const append of batch) append.reject(error);
      return;
    }
    this.commits += 1;
    this.appends += batch.length;
    this.onCommitted({ batch, outcomes, headBefore, headAfter, written });
  }
}

/** Answers each append of a commit with its outcome. */
export const settle = ({ batch, outcomes }: Committed): void => {
  batch.forEach((append, index) => {
    const outcome = outcomes[index];
    if (outcome === undefined) append.reject(new Error('append lost its outcome'));
    else if ('ok' in outcome) append.resolve(outcome.ok);
    else append.reject(outcome.error);
  });
};
