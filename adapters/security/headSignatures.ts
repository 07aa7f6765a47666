import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { signedHeadText, type SignedHead } from '../../domain/shared/hashChain.js';

/** The public half of the signing key as `GET /v1/audit/key` gives it. */
export interface PublicSigningKey {
  readonly keyId: string;
  /** SPKI PEM. */
  readonly publicKey: string;
}

/** A key's id: the first 16 hex digits of SHA-256 over its public key (SPKI DER). */
const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

/** Signs chain heads with the server's Ed25519 key (docs/audit.md, "Signed heads"). */
export class HeadSigner {
  readonly key: PublicSigningKey;

  constructor(private readonly privateKey: KeyObject) {
    const publicKey = createPublicKey(privateKey);
    this.key = {
      keyId: keyIdOf(publicKey),
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }

  /** The head at `position` with `hash` (hex), signed now. */
  sign(position: number, hash: string, signedAt: string): SignedHead {
    const signature = sign(
      null,
      Buffer.from(signedHeadText({ position, hash, signedAt })),
      this.privateKey,
    );
    return {
      position,
      hash,
      signedAt,
      signature: signature.toString('base64'),
      keyId: this.key.keyId,
    };
  }
}

/**
 * A check of heads against one public key (PEM), for verifiers that hold only the public key:
 * the signature must be valid and the key id the key's own.
 */
export const headSignatureCheck = (publicKeyPem: string): ((head: SignedHead) => boolean) => {
  const publicKey = createPublicKey(publicKeyPem);
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the public key is ${String(publicKey.asymmetricKeyType)}, not Ed25519`);
  }
  const keyId = keyIdOf(publicKey);
  return (head) => {
    if (head.keyId !== keyId) return false;
    try {
      return verify(
        null,
        Buffer.from(signedHeadText(head)),
        publicKey,
        Buffer.from(head.signature, 'base64'),
      );
    } catch {
      return false;
    }
  };
};
