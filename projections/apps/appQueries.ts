import type { ReadModelDb } from '../readModelDb.js';
import type { AppRow } from './appsProjection.js';

/** Reads of the `apps` read model. */
export interface AppQueries {
  byId(appId: string): AppRow | undefined;
  bySecretHash(secretHash: string): AppRow | undefined;
}

export const appQueries = (db: ReadModelDb): AppQueries => {
  const byId = db.prepare<[string], AppRow>('SELECT * FROM apps WHERE app_id = ?');
  const bySecret = db.prepare<[string], AppRow>('SELECT * FROM apps WHERE secret_hash = ?');
  return {
    byId: (appId) => byId.get(appId),
    bySecretHash: (secretHash) => bySecret.get(secretHash),
  };
};

/** The registered redirect URIs of an app row. */
export const redirectUrisOf = (row: AppRow): string[] => JSON.parse(row.redirect_uris) as string[];
