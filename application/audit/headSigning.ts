import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../domain/shared/eventStore.js';
import { GENESIS_HASH, SIGNED_HEAD_EVENT, type SignedHead } from '../../domain/shared/hashChain.js';
import type { AuditLog } from './auditLog.js';

/** The stream the server's signed heads are appended to. */
export const SIGNED_HEADS_STREAM = 'audit-heads';

/** Signs a head with the server's key (adapters/security/headSignatures.ts). */
export interface Signer {
  sign(position: number, hash: string, signedAt: string): SignedHead;
}

/**
 * Signs the log's chain head and appends the signed head to the log itself (docs/audit.md,
 * "Signed heads"): from then on the log proves that everything up to that head is unchanged to
 * anyone who kept the head. A head already signed is not signed again: while nothing but the
 * last signed head was appended, the answer is that head, so an idle log does not grow by one
 * event a minute.
 */
export const signHead = (deps: {
  readonly audit: AuditLog;
  readonly store: EventStore;
  readonly signer: Signer;
}): ((now: string) => Promise<SignedHead>) => {
  // One signing at a time: callers that ask meanwhile get the head it signs.
  let signing: Promise<SignedHead> | undefined;
  const signOnce = async (now: string): Promise<SignedHead> => {
    const last = deps.audit.events({ before: Number.MAX_SAFE_INTEGER, limit: 1 })[0];
    if (last?.type === SIGNED_HEAD_EVENT) {
      const signed = JSON.parse(last.data) as SignedHead;
      if (signed.position === last.position - 1) return signed;
    }
    const head = {
      position: last?.position ?? 0,
      hash: (last?.hash ?? GENESIS_HASH).toString('hex'),
    };
    const signed = deps.signer.sign(head.position, head.hash, now);
    const correlationId = randomUUID();
    await deps.store.appendToStream(
      SIGNED_HEADS_STREAM,
      [
        {
          id: randomUUID(),
          type: SIGNED_HEAD_EVENT,
          data: signed,
          metadata: {
            occurredAt: now,
            actor: { kind: 'system', id: 'audit' },
            correlationId,
            causationId: correlationId,
            schemaVersion: 1,
          },
        },
      ],
      { expectedRevision: 'any' },
    );
    return signed;
  };
  return (now) => {
    signing ??= signOnce(now).finally(() => {
      signing = undefined;
    });
    return signing;
  };
};
