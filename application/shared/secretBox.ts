/**
 * Seals the secret settings of devices (a Bark device key, an ntfy token, a webhook's signing
 * secret) so that the log, the read models and backups hold them only encrypted, with a key kept
 * in the data folder (docs/devices.md "Secrets"). The security adapter implements it.
 */
export interface SecretBox {
  /** The sealed form of `plain`: `v1.<base64url(iv | ciphertext | tag)>`, new each time. */
  seal(plain: string): string;
  /**
   * The clear value of a sealed one. Throws when it was not sealed with this key or was altered:
   * that is a bug or a key that does not match the log, never a person's mistake.
   */
  open(sealed: string): string;
  /**
   * A keyed hash over all of a device's settings (secrets in clear included), so that "the same
   * device saved again" and "the configuration a channel refused" can be told without seeing
   * any secret. Independent of the order of the names.
   */
  fingerprint(values: Readonly<Record<string, string | number | boolean>>): string;
}
