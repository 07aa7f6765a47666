import { introduceSigningKey, lastSignedHead, signHead } from '../application/audit/headSigning.js';
import { stateAsOf } from '../application/audit/stateAsOf.js';
import { messageTrail } from '../application/audit/trail.js';
import type { AuditDeps } from '../adapters/http/api/auditRoutes.js';
import { resolveAuditSigningKey } from '../adapters/config/auditSigningKey.js';
import { HeadKeyRing, HeadSigner } from '../adapters/security/headSignatures.js';
import { SqliteAuditLog } from '../adapters/sqlite/auditLog.js';
import { SealedAuditLog, sealingProcessor } from '../adapters/sqlite/sealedCopy.js';
import { runnerFor } from './core.js';
import { PgAuditLog } from '../adapters/postgres/pgAuditLog.js';
import type { AuditLog } from '../application/audit/auditLog.js';
import type { Core } from './core.js';
import {
  SIGNING_KEY_EVENT,
  type IntroducedKey,
  type SignedHead,
  type VerifyOptions,
} from '../domain/shared/hashChain.js';
import { ProblemError } from '../adapters/http/problem.js';
import { logKindOf } from './dataFolder.js';
import type { StopStack } from './stopStack.js';

/** How often the server signs its chain head when the log has grown (docs/audit.md). */
export const HEAD_SIGNING_INTERVAL_MS = 60_000;

/**
 * The audit routes' parts: the log with its chain, the head-signing key of the data folder (made
 * at the first start), and a signing of the head every minute while the log grows. On
 * EventStoreDB the chain is a sealed copy of the log in the data folder (docs/audit.md,
 * "EventStoreDB").
 *
 * On a shared PostgreSQL log every node reads it and signs with the one key the deployment shares
 * (composition/sharedDatabase.ts): each node's minute signing skips a head already signed by that
 * key (application/audit/headSigning.ts), so an idle log does not grow by one head per node, and
 * two nodes signing in the same instant at worst add a second head, which the next minute covers.
 */
export const startAudit = async (core: Core, stops: StopStack): Promise<AuditDeps | undefined> => {
  const kind = logKindOf(core.settings);
  const pool = core.shared?.pool;
  if (kind === 'postgres' && pool === undefined) return undefined;
  const key = resolveAuditSigningKey(core.settings.dataDir);
  if (key.generated) {
    core.logger.info('made the key that signs the audit chain head', { file: key.file });
  }
  const signer = new HeadSigner(key.privateKey);
  // Heads are checked by the key that signed them: the server's own and every key the log
  // introduced before it (a key file lost or replaced leaves the older heads checkable).
  const keys = new HeadKeyRing([signer.key.publicKey]);
  const verifyOptions = { signatureValid: keys.check, keyIntroduced: keys.learn };
  const audit: AuditLog =
    kind === 'eventstoredb'
      ? await startSealing(core, stops, verifyOptions)
      : pool === undefined
        ? new SqliteAuditLog(core.db, verifyOptions)
        : new PgAuditLog(pool, verifyOptions);
  for (const event of await audit.events({ types: [SIGNING_KEY_EVENT], limit: 1_000_000 })) {
    try {
      keys.learn(JSON.parse(event.data) as IntroducedKey);
    } catch {
      // verify names the event: the key it introduces is not usable.
    }
  }
  const deps = {
    audit,
    signingKey: signer.key,
    stateAsOf: (stream: string, asOf: string) => stateAsOf(core.store, stream, asOf),
    trail: (messageId: string) => messageTrail({ audit, store: core.store }, messageId),
  };
  if (core.settings.readOnly) {
    // A replayed folder shows the heads signed until then; it signs and appends nothing.
    return { ...deps, signHead: () => headOfReadOnlyLog(audit) };
  }
  const introduction = await introduceSigningKey({
    audit,
    store: core.store,
    signer,
    now: new Date().toISOString(),
  });
  // On EventStoreDB each node has its own key, so another node's last head is the rule there.
  if (introduction.lastHeadKeyId !== undefined && kind !== 'eventstoredb') {
    core.logger.warn(
      'the audit chain head is now signed with another key than before: the key file was missing or replaced',
      { file: key.file, keyId: signer.key.keyId, previousKeyId: introduction.lastHeadKeyId },
    );
  }
  const sign = signHead({ audit, store: core.store, signer });
  const timer = setInterval(() => {
    sign(new Date().toISOString(), { anyKey: true }).catch((error: unknown) => {
      core.logger.warn('could not sign the audit chain head', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }, HEAD_SIGNING_INTERVAL_MS);
  timer.unref();
  stops.push(() => {
    clearInterval(timer);
  });
  return { ...deps, signHead: (now) => sign(now) };
};

/**
 * On EventStoreDB: the sealing processor (adapters/sqlite/sealedCopy.ts), started and caught up
 * with the log's head before the routes open, so the first signed head covers the log as it was
 * at start (a first start on a long log seals all of it, as the read models replay it); the
 * audit log reads the sealed copy. A read-only server seals nothing more.
 */
const startSealing = async (
  core: Core,
  stops: StopStack,
  verifyOptions: Omit<VerifyOptions, 'hashAt'>,
): Promise<AuditLog> => {
  const audit = new SealedAuditLog(core.db, core.store, verifyOptions);
  if (core.settings.readOnly) return audit;
  const sealing = runnerFor(core, sealingProcessor(core.db, core.checkpoints));
  sealing.start();
  stops.push(() => sealing.stop());
  const head = await core.store.headPosition();
  if (head !== undefined) {
    const started = Date.now();
    await sealing.waitFor(head);
    const ms = Date.now() - started;
    if (ms > 1_000) core.logger.info('sealed the EventStoreDB log into the audit chain', { ms });
  }
  return audit;
};

/** The last head the log holds, for a read-only server; none is a 403 read_only. */
const headOfReadOnlyLog = async (audit: AuditLog): Promise<SignedHead> => {
  const last = await lastSignedHead(audit);
  if (last === undefined) {
    throw new ProblemError(
      'read_only',
      'this read-only server signs no head, and its log holds none signed before',
    );
  }
  return last;
};
