import type { ReadModelDb } from '../readModelDb.js';
import type { AppRow } from './appsProjection.js';

/** A suspension whose time is up: which app, until when it ran, and the app's score now. */
export interface EndedSuspension {
  readonly app_id: string;
  readonly suspended_until: string;
  readonly score: number;
}

/** Reads of the `apps` read model. */
export interface AppQueries {
  byId(appId: string): AppRow | undefined;
  bySecretHash(secretHash: string): AppRow | undefined;
  /** Apps still suspended although their suspension ran out by `now`. */
  suspensionsEndedBy(now: string): EndedSuspension[];
}

export const appQueries = (db: ReadModelDb): AppQueries => {
  const byId = db.prepare<[string], AppRow>('SELECT * FROM apps WHERE app_id = ?');
  const bySecret = db.prepare<[string], AppRow>('SELECT * FROM apps WHERE secret_hash = ?');
  const ended = db.prepare<[string], EndedSuspension>(
    "SELECT app_id, suspended_until, score FROM apps WHERE status = 'suspended' AND suspended_until <= ?",
  );
  return {
    byId: (appId) => byId.get(appId),
    bySecretHash: (secretHash) => bySecret.get(secretHash),
    suspensionsEndedBy: (now) => ended.all(now),
  };
};

/** The registered redirect URIs of an app row. */
export const redirectUrisOf = (row: AppRow): string[] => JSON.parse(row.redirect_uris) as string[];
