/**
 * Tells whether anybody but this store has written to the file since its last commit: another
 * process, or another store object on the same file. What the store keeps in memory (the stream
 * heads, the window of recent events) describes the log only while nothing foreign was written.
 */
export class ForeignWriteDetector {
  /** The log's head after this store's last commit; undefined before its first. */
  private known: number | undefined;
  /** The answer of {@link nothingForeign} for the current synchronous stretch. */
  private check: boolean | undefined;

  /**
   * @param head reads the log's current head from the database
   * @param onForeignWrite called whenever a look finds a foreign write, or a commit follows one
   */
  constructor(
    private readonly head: () => number,
    private readonly onForeignWrite: () => void,
  ) {}

  /** The log's head as this store left it with its last commit. */
  get knownHead(): number | undefined {
    return this.known;
  }

  /** True while nobody but this store has written to the file since its last commit. */
  nothingForeign(): boolean {
    // Several reads in one synchronous stretch (a processor loading three streams at once) share
    // one look; it is forgotten before any other code (a commit of another connection's callback
    // included) can run, so a read after a foreign commit always sees it.
    if (this.check !== undefined) return this.check;
    this.check = this.head() === this.known;
    if (!this.check) this.onForeignWrite();
    queueMicrotask(() => {
      this.check = undefined;
    });
    return this.check;
  }

  /** Notes a commit of this store that moved the log's head from `headBefore` to `headAfter`. */
  committed(headBefore: number, headAfter: number): void {
    if (this.known !== headBefore) this.onForeignWrite();
    this.known = headAfter;
    // A foreign write seen earlier in this stretch is behind this commit's head now.
    if (this.check === false) this.check = undefined;
  }
}
