import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import {
  signedHeadText,
  type IntroducedKey,
  type SignedHead,
} from '../../domain/shared/hashChain.js';

/** The public half of the signing key as `GET /v1/audit/key` gives it. */
export type PublicSigningKey = IntroducedKey;

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
 * The Ed25519 public keys heads may be signed with, by key id: the ones a verifier was given and
 * those it learns from the log as it reads it (`AuditKeyIntroduced`). A head is valid when the
 * key its `keyId` names is known and its signature checks out with that key.
 */
export class HeadKeyRing {
  private readonly keys = new Map<string, KeyObject>();

  constructor(publicKeysPem: readonly string[] = []) {
    for (const pem of publicKeysPem) this.add(pem);
  }

  /** Adds a key (SPKI PEM) and gives its id; throws for one that is not an Ed25519 public key. */
  add(publicKeyPem: string, claimedKeyId?: string): string {
    const publicKey = createPublicKey(publicKeyPem);
    if (publicKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(`the public key is ${String(publicKey.asymmetricKeyType)}, not Ed25519`);
    }
    const keyId = keyIdOf(publicKey);
    if (claimedKeyId !== undefined && claimedKeyId !== keyId) {
      throw new Error(`key id ${claimedKeyId} is not the id of the key (${keyId})`);
    }
    this.keys.set(keyId, publicKey);
    return keyId;
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  readonly check = (head: SignedHead): boolean => {
    const publicKey = this.keys.get(head.keyId);
    if (publicKey === undefined) return false;
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

  /** Learns a key the log introduces (the `keyIntroduced` of verify's options). */
  readonly learn = (key: IntroducedKey): void => {
    this.add(key.publicKey, key.keyId);
  };
}

/** A check of heads against one public key (PEM): a ring of that key alone. */
export const headSignatureCheck = (publicKeyPem: string): ((head: SignedHead) => boolean) =>
  new HeadKeyRing([publicKeyPem]).check;
