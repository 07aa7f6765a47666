import { signHead } from '../application/audit/headSigning.js';
import { stateAsOf } from '../application/audit/stateAsOf.js';
import type { AuditDeps } from '../adapters/http/api/auditRoutes.js';
import { resolveAuditSigningKey } from '../adapters/config/auditSigningKey.js';
import { HeadSigner, headSignatureCheck } from '../adapters/security/headSignatures.js';
import { SqliteAuditLog } from '../adapters/sqlite/auditLog.js';
import type { Core } from './core.js';
import { logKindOf } from './dataFolder.js';
import type { StopStack } from './stopStack.js';

/** How often the server signs its chain head when the log has grown (docs/audit.md). */
export const HEAD_SIGNING_INTERVAL_MS = 60_000;

/**
 * The audit routes' parts: the log with its chain, the head-signing key of the data folder (made
 * at the first start), and a signing of the head every minute while the log grows. Undefined on
 * EventStoreDB, whose log this build does not chain yet (docs/audit.md, "EventStoreDB").
 */
export const startAudit = (core: Core, stops: StopStack): AuditDeps | undefined => {
  if (logKindOf(core.settings) !== 'sqlite') return undefined;
  const key = resolveAuditSigningKey(core.settings.dataDir);
  if (key.generated) {
    core.logger.info('made the key that signs the audit chain head', { file: key.file });
  }
  const signer = new HeadSigner(key.privateKey);
  const audit = new SqliteAuditLog(core.db, {
    signatureValid: headSignatureCheck(signer.key.publicKey),
  });
  const sign = signHead({ audit, store: core.store, signer });
  const timer = setInterval(() => {
    sign(new Date().toISOString()).catch((error: unknown) => {
      core.logger.warn('could not sign the audit chain head', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }, HEAD_SIGNING_INTERVAL_MS);
  timer.unref();
  stops.push(() => {
    clearInterval(timer);
  });
  return {
    audit,
    signHead: sign,
    signingKey: signer.key,
    stateAsOf: (stream, asOf) => stateAsOf(core.store, stream, asOf),
  };
};
