import { createHmac } from 'node:crypto';

/** The prefix Standard Webhooks shows a secret with. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Key sizes Standard Webhooks allows, in bytes (Tidings generates 32). */
export const WEBHOOK_KEY_BYTES = { min: 24, max: 64 } as const;

/** A new secret: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (randomBytes: (size: number) => Uint8Array): string =>
  `${WEBHOOK_SECRET_PREFIX}${Buffer.from(randomBytes(32)).toString('base64')}`;

/** A secret decoded into the HMAC key, or why it cannot be one. */
export type SigningKey =
  | { readonly kind: 'key'; readonly bytes: Buffer }
  | { readonly kind: 'invalid'; readonly reason: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of a `whsec_<base64>` secret: the base64-decoded part after the prefix (the prefix
 * may be left out, as the reference libraries accept). Anything else, or a key outside 24–64
 * bytes, is `invalid` with a reason that never quotes the secret. Pure.
 */
export const signingKeyOf = (secret: string | undefined): SigningKey => {
  if (secret === undefined || secret === '') {
    return { kind: 'invalid', reason: 'the device has no signing secret' };
  }
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX)
    ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
    : secret;
  if (!BASE64.test(encoded)) {
    return { kind: 'invalid', reason: 'the signing secret is not whsec_ followed by base64' };
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < WEBHOOK_KEY_BYTES.min || bytes.length > WEBHOOK_KEY_BYTES.max) {
    return {
      kind: 'invalid',
      reason: `the signing secret must hold ${WEBHOOK_KEY_BYTES.min} to ${WEBHOOK_KEY_BYTES.max} bytes, it holds ${bytes.length}`,
    };
  }
  return { kind: 'key', bytes };
};

/**
 * The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256, keyed with `key`, of
 * `{id}.{timestamp}.{body}` (the body's exact UTF-8 bytes), as Standard Webhooks defines it.
 */
export const signatureOf = (key: Buffer, id: string, timestamp: number, body: string): string =>
  `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
