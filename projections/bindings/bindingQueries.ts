import type { ReadModelDb } from '../readModelDb.js';
import type { BindingRow } from './bindingsProjection.js';

/** A binding with the name of its app, as a person's app list shows it. */
export type BindingWithApp = BindingRow & { readonly app_name: string };

/** Reads of the `bindings` read model. */
export interface BindingQueries {
  byId(bindingId: string): BindingRow | undefined;
  byKeyHash(keyHash: string): BindingRow | undefined;
  byAppAndOpenid(appId: string, openid: string): BindingRow | undefined;
  /** A person's active bindings, most recently authorized first. */
  activeForRecipient(recipientId: string): BindingWithApp[];
}

export const bindingQueries = (db: ReadModelDb): BindingQueries => {
  const byId = db.prepare<[string], BindingRow>('SELECT * FROM bindings WHERE binding_id = ?');
  const byKey = db.prepare<[string], BindingRow>('SELECT * FROM bindings WHERE key_hash = ?');
  const byOpenid = db.prepare<[string, string], BindingRow>(
    'SELECT * FROM bindings WHERE app_id = ? AND openid = ?',
  );
  const forRecipient = db.prepare<[string], BindingWithApp>(
    `SELECT b.*, a.name AS app_name FROM bindings b JOIN apps a USING (app_id)
     WHERE b.recipient_id = ? AND b.status = 'active' ORDER BY b.authorized_at DESC, b.binding_id`,
  );
  return {
    byId: (bindingId) => byId.get(bindingId),
    byKeyHash: (keyHash) => byKey.get(keyHash),
    byAppAndOpenid: (appId, openid) => byOpenid.get(appId, openid),
    activeForRecipient: (recipientId) => forRecipient.all(recipientId),
  };
};
