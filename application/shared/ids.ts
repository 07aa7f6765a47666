/** Where new ids and credentials come from; the security adapter implements it. */
export interface Ids {
  /** A new unguessable id that sorts by creation time (`msg_…`). */
  ordered(prefix: string): string;
  /** A new unguessable id (`app_…`). */
  random(prefix: string): string;
  /** A stable id derived from parts, for objects whose identity is a natural key. */
  derived(prefix: string, ...parts: readonly string[]): string;
  /** A new random credential, shown once (`tds_` app secrets, `tbk_` binding keys). */
  secret(prefix: string): string;
  /** The stored form of a credential: only its hash is ever kept. */
  hash(secret: string): string;
}
