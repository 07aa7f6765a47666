/** Slow, salted password hashing; the security adapter implements it. */
export interface PasswordHasher {
  /** The stored form of a new password. */
  hash(password: string): Promise<string>;
  /**
   * Whether `password` matches the `stored` hash. With no stored hash (no such person) it does
   * the same work against a decoy and answers false, so the time does not tell which names exist.
   */
  verify(password: string, stored: string | undefined): Promise<boolean>;
}
