import { isSystemApp } from '../../domain/app/systemApp.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { AppRow } from '../../projections/apps/appsProjection.js';
import type { Ids } from '../shared/ids.js';

/** What finding the app behind a secret needs. */
export interface AuthenticateAppDeps {
  readonly apps: AppQueries;
  readonly ids: Pick<Ids, 'hash'>;
}

/**
 * The app a secret proves (docs/api.md, "Credentials"), or undefined when it proves none. Never
 * the built-in app of test pushes (domain/app/systemApp.ts), whatever secret it holds: one nobody
 * was told, or one an older server let an operator rotate it to, which would otherwise reach
 * everyone who ever sent themselves a test push, at level strong, as "Tidings".
 */
export const authenticateApp =
  (deps: AuthenticateAppDeps) =>
  (secret: string): AppRow | undefined => {
    const row = deps.apps.bySecretHash(deps.ids.hash(secret));
    return row === undefined || isSystemApp(row.app_id) ? undefined : row;
  };
