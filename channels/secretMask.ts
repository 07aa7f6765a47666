import type { Channel } from './channel.js';

/** What a secret value reads as where text that quoted it is shown. */
export const SECRET_MASK = '***';

/**
 * The values of `settings` that a channel declares secret, as text, each also percent-encoded
 * when that differs (how a value travels in a URL: a Bark device key is part of its path). Empty
 * values are left out; they hide nothing.
 */
export const secretValuesOf = (channel: Pick<Channel, 'settings'>, settings: unknown): string[] => {
  if (typeof settings !== 'object' || settings === null) return [];
  const values = settings as Readonly<Record<string, unknown>>;
  const secrets = new Set<string>();
  for (const setting of channel.settings) {
    const value = values[setting.name];
    if (!setting.secret || (typeof value !== 'string' && typeof value !== 'number')) continue;
    const clear = String(value);
    if (clear === '') continue;
    secrets.add(clear);
    secrets.add(encodeURIComponent(clear));
  }
  // The longest first, so a secret that contains another is masked whole.
  return [...secrets].sort((a, b) => b.length - a.length);
};

/** `text` with every occurrence of each of `secrets` replaced by {@link SECRET_MASK}. */
export const maskSecretValues = (text: string, secrets: readonly string[]): string =>
  secrets.reduce((masked, secret) => masked.split(secret).join(SECRET_MASK), text);
