import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ResolvedToken {
  readonly token: string;
  /** Where a generated token was written; absent when it came from the environment. */
  readonly file?: string;
  readonly generated: boolean;
}

/**
 * The operator or auditor token: the configured one, else the one generated at an earlier start
 * (kept in `<dataDir>/<fileName>`), else a new random one written there with mode 0600.
 */
export const resolveToken = (
  configured: string | undefined,
  dataDir: string,
  fileName: string,
  prefix: string,
): ResolvedToken => {
  if (configured !== undefined) return { token: configured, generated: false };
  const file = join(dataDir, fileName);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, file, generated: false };
  }
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // in case the file existed with looser permissions
  return { token, file, generated: true };
};
