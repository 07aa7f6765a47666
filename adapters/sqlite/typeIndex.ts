import type { SqliteDatabase } from './database.js';

/**
 * The last position of each event type in the log, known up to some head: a filtered read skips
 * the types with nothing after its start, so asking "anything new for me?" costs next to nothing
 * for a processor whose types are rare. Learnt once from the (type, position) index, then kept up
 * from the rows written since.
 */
export class TypeIndex {
  private readonly lastOfType = new Map<string, number>();
  /** The head up to which {@link lastOfType} is exact; undefined until first learnt. */
  private knownTo: number | undefined;
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      firstType: db.prepare<[], string>('SELECT type FROM events ORDER BY type LIMIT 1').pluck(),
      nextType: db
        .prepare<[string], string>('SELECT type FROM events WHERE type > ? ORDER BY type LIMIT 1')
        .pluck(),
      lastOfType: db
        .prepare<[string, number], number>(
          'SELECT position FROM events WHERE type = ? AND position <= ? ORDER BY position DESC LIMIT 1',
        )
        .pluck(),
      // NOT INDEXED: walk the new rows by position, never the whole type index.
      lastOfTypesIn: db.prepare<[number, number], { type: string; last: number }>(
        'SELECT type, max(position) AS last FROM events NOT INDEXED WHERE position > ? AND position <= ? GROUP BY type',
      ),
      positionsOfType: db
        .prepare<[string, number, number, number], number>(
          'SELECT position FROM events WHERE type = ? AND position > ? AND position <= ? ORDER BY position LIMIT ?',
        )
        .pluck(),
    };
  }

  /**
   * The first `maxCount` positions in (after, head] holding one of `types`, ascending. Types with
   * nothing after `after` cost no query.
   */
  positionsAfter(
    types: readonly string[],
    after: number,
    head: number,
    maxCount: number,
  ): number[] {
    this.learn(head);
    const positions: number[] = [];
    for (const type of new Set(types)) {
      if ((this.lastOfType.get(type) ?? 0) <= after) continue;
      positions.push(...this.statements.positionsOfType.all(type, after, head, maxCount));
    }
    positions.sort((a, b) => a - b);
    if (positions.length > maxCount) positions.length = maxCount;
    return positions;
  }

  /** Notes an event of `type` written at `position` (inside a commit not finished yet). */
  written(type: string, position: number): void {
    // May outlive a rolled-back savepoint: a type thought newer than it is costs one lookup.
    if (this.knownTo !== undefined) this.lastOfType.set(type, position);
  }

  /** Notes a commit of this store that moved the log's head from `headBefore` to `headAfter`. */
  committed(headBefore: number, headAfter: number): void {
    // `written` noted the types the commit wrote; if nothing else had been written since the types
    // were last learnt, they are now known up to this commit without reading it back.
    if (this.knownTo === headBefore) this.knownTo = headAfter;
  }

  /** Brings {@link lastOfType} up to `head`: once from the type index, then from the new rows. */
  private learn(head: number): void {
    if (this.knownTo === undefined) {
      for (
        let type = this.statements.firstType.get();
        type !== undefined;
        type = this.statements.nextType.get(type)
      ) {
        const last = this.statements.lastOfType.get(type, head);
        if (last !== undefined) this.lastOfType.set(type, last);
      }
    } else if (head > this.knownTo) {
      for (const row of this.statements.lastOfTypesIn.iterate(this.knownTo, head)) {
        this.lastOfType.set(row.type, row.last);
      }
    } else {
      return;
    }
    this.knownTo = head;
  }
}
