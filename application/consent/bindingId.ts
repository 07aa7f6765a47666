import type { Ids } from '../shared/ids.js';

/** The id of the binding between an app and one of its users: one per (app, openid). */
export const bindingIdFor = (ids: Pick<Ids, 'derived'>, appId: string, openid: string): string =>
  ids.derived('bnd_', appId, openid);
