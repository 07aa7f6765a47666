/**
 * Last revisions by stream, bounded without ever iterating or deleting from a Map: new notes go
 * to the young generation; when it is full it becomes the old one and the previous old one is
 * dropped. Lookups try the young generation first, so the latest note wins.
 *
 * The store answers "anything after revision r?" from here without reading the stream, so the
 * notes are only trusted while nothing foreign has written to the file (foreignWrites.ts).
 */
export class StreamHeads<Head = number> {
  private young = new Map<string, Head>();
  private old = new Map<string, Head>();

  /** @param capacity about how many streams are remembered (between half of it and all of it) */
  constructor(private readonly capacity: number) {}

  /** The last revision noted for `stream`, if it is still remembered. */
  get(stream: string): Head | undefined {
    return this.young.get(stream) ?? this.old.get(stream);
  }

  /** Notes `revision` as the last of `stream`. */
  set(stream: string, revision: Head): void {
    this.young.set(stream, revision);
    if (this.young.size >= this.capacity / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  /** Forgets every stream (their heads may have moved behind the store's back). */
  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }
}
