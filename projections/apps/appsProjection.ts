import type { AppEvent } from '../../domain/app/appEvents.js';
import { appEventTypes } from '../../domain/app/appEvents.js';
import { INITIAL_APP_SCORE } from '../../domain/app/appDecider.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';

/** A row of the `apps` read model. */
export interface AppRow {
  readonly app_id: string;
  readonly name: string;
  /** JSON array of URLs. */
  readonly redirect_uris: string;
  readonly callback_url: string | null;
  /** JSON array of the callback's event types, when it has a callback set by the app. */
  readonly callback_events: string | null;
  /** 1 when its binding keys work as Bark device keys and ntfy topics. */
  readonly compat_ingress: 0 | 1;
  readonly secret_hash: string;
  readonly status: 'active' | 'suspended' | 'banned';
  readonly score: number;
  readonly suspended_until: string | null;
  readonly suspension_count: number;
  readonly registered_at: string;
  readonly updated_at: string;
  /** Revision of the app's stream this row reflects. */
  readonly revision: number;
}

/**
 * Apps as operators and the credential check see them: standing, score, secret hash (looked up by
 * hash when an app authenticates) and redirect URIs.
 */
export const appsProjection: Projection = {
  name: 'apps',
  version: 2,
  eventTypes: appEventTypes,
  tables: ['apps'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS apps (
      app_id           TEXT PRIMARY KEY,
      name             TEXT NOT NULL,
      redirect_uris    TEXT NOT NULL,
      callback_url     TEXT,
      callback_events  TEXT,
      compat_ingress   INTEGER NOT NULL DEFAULT 0,
      secret_hash      TEXT NOT NULL UNIQUE,
      status           TEXT NOT NULL,
      score            INTEGER NOT NULL,
      suspended_until  TEXT,
      suspension_count INTEGER NOT NULL,
      registered_at    TEXT NOT NULL,
      updated_at       TEXT NOT NULL,
      revision         INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS apps_by_score ON apps (score, app_id);`);
  },
  bind: (db: ReadModelDb) => {
    const readAppEvent = eventReader<AppEvent>(appEventTypes);
    const insert = db.prepare(
      `INSERT INTO apps (app_id, name, redirect_uris, callback_url, secret_hash, status, score,
         suspended_until, suspension_count, registered_at, updated_at, revision)
       VALUES (@appId, @name, @redirectUris, @callbackUrl, @secretHash, 'active', ${INITIAL_APP_SCORE},
         NULL, 0, @at, @at, @revision)
       ON CONFLICT (app_id) DO NOTHING`,
    );
    const touch = 'updated_at = @at, revision = @revision';
    const statements = {
      secret: db.prepare(
        `UPDATE apps SET secret_hash = @secretHash, ${touch} WHERE app_id = @appId`,
      ),
      redirects: db.prepare(
        `UPDATE apps SET redirect_uris = @redirectUris, ${touch} WHERE app_id = @appId`,
      ),
      score: db.prepare(`UPDATE apps SET score = @score, ${touch} WHERE app_id = @appId`),
      suspend: db.prepare(
        `UPDATE apps SET status = 'suspended',
           suspension_count = suspension_count + (CASE WHEN status = 'suspended' THEN 0 ELSE 1 END),
           suspended_until = @until, ${touch} WHERE app_id = @appId`,
      ),
      activate: db.prepare(
        `UPDATE apps SET status = 'active', suspended_until = NULL, score = @score, ${touch} WHERE app_id = @appId`,
      ),
      callback: db.prepare(
        `UPDATE apps SET callback_url = @url, callback_events = @events, ${touch} WHERE app_id = @appId`,
      ),
      compatIngress: db.prepare(
        `UPDATE apps SET compat_ingress = @enabled, ${touch} WHERE app_id = @appId`,
      ),
      ban: db.prepare(
        `UPDATE apps SET status = 'banned', suspended_until = NULL, ${touch} WHERE app_id = @appId`,
      ),
    };
    return (recorded) => {
      const at = recorded.metadata.occurredAt;
      const revision = recorded.revision;
      const event = readAppEvent(recorded);
      switch (event.type) {
        case 'AppRegistered':
          insert.run({
            appId: event.data.appId,
            name: event.data.name,
            redirectUris: JSON.stringify(event.data.redirectUris),
            callbackUrl: event.data.callbackUrl ?? null,
            secretHash: event.data.secretHash,
            at,
            revision,
          });
          return;
        case 'AppSecretRotated':
          statements.secret.run({
            appId: event.data.appId,
            secretHash: event.data.secretHash,
            at,
            revision,
          });
          return;
        case 'AppRedirectUrisChanged':
          statements.redirects.run({
            appId: event.data.appId,
            redirectUris: JSON.stringify(event.data.redirectUris),
            at,
            revision,
          });
          return;
        case 'AppPenalized':
          statements.score.run({
            appId: event.data.appId,
            score: event.data.scoreAfter,
            at,
            revision,
          });
          return;
        case 'AppSuspended':
          statements.suspend.run({
            appId: event.data.appId,
            until: event.data.until,
            at,
            revision,
          });
          return;
        case 'AppSuspensionLifted':
        case 'AppReinstated':
          statements.activate.run({
            appId: event.data.appId,
            score: event.data.scoreAfter,
            at,
            revision,
          });
          return;
        case 'AppBanned':
          statements.ban.run({ appId: event.data.appId, at, revision });
          return;
        case 'AppCallbackSet':
          statements.callback.run({
            appId: event.data.appId,
            url: event.data.url,
            events: JSON.stringify(event.data.events),
            at,
            revision,
          });
          return;
        case 'AppCallbackRemoved':
          statements.callback.run({
            appId: event.data.appId,
            url: null,
            events: null,
            at,
            revision,
          });
          return;
        case 'AppCompatIngressChanged':
          statements.compatIngress.run({
            appId: event.data.appId,
            enabled: event.data.enabled ? 1 : 0,
            at,
            revision,
          });
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};
