import type { Logger } from '../domain/shared/logger.js';
import type { Settings } from '../adapters/config/settings.js';
import { resolveToken } from '../adapters/config/tokens.js';
import { ADMIN_TOKEN_FILE, AUDIT_TOKEN_FILE } from '../adapters/config/dataFolderFiles.js';

/** The operator's and the auditor's bearer tokens. */
export interface AccessTokens {
  readonly admin: string;
  readonly audit: string;
}

/**
 * The configured tokens, or the ones kept in the data folder (generated on the first start).
 * Where a token came from is logged, never the token itself.
 */
export const resolveAccessTokens = (settings: Settings, logger: Logger): AccessTokens => {
  const admin = resolveToken(settings.adminToken, settings.dataDir, ADMIN_TOKEN_FILE, 'tda_');
  const audit = resolveToken(settings.auditToken, settings.dataDir, AUDIT_TOKEN_FILE, 'tdu_');
  for (const [role, token] of [
    ['operator', admin],
    ['auditor', audit],
  ] as const) {
    if (token.file !== undefined) {
      logger.info(
        `${role} token ${token.generated ? 'generated and written to' : 'read from'} its file`,
        { file: token.file },
      );
    }
  }
  return { admin: admin.token, audit: audit.token };
};
