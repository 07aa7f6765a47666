import type { paths } from './schema.js';

/**
 * The bodies of the app routes, named, all read from the generated schema (never restated): a
 * field the server adds appears here at the next `npm run client:generate`.
 */

type Json<Content> = Content extends { readonly 'application/json': infer Body } ? Body : never;

/** A message to push: `key` or `openid`, then `body`, and the optional rest. */
export type Message = Json<paths['/v1/messages']['post']['requestBody']['content']>;

/** The answer to a push: the message's id and whether it is on its way. */
export type PushResult = Json<paths['/v1/messages']['post']['responses'][202]['content']>;

/** The answer to a batch: one result per message, in order; a failed one carries `error`. */
export type BatchResult = Json<paths['/v1/messages/batch']['post']['responses'][200]['content']>;

/** Where a message is: its status and one delivery per channel (and device). */
export type MessageStatus = Json<
  paths['/v1/messages/{messageId}']['get']['responses'][200]['content']
>;

/** What recalling did: `cancelled` (it was scheduled) or `recalled` (it was delivered). */
export type RecallResult = Json<
  paths['/v1/messages/{messageId}']['delete']['responses'][200]['content']
>;

/** The binding of one of the app's users, by the openid the app gave at consent. */
export type Binding = Json<paths['/v1/bindings']['get']['responses'][200]['content']>;

/** The app's own standing: status, score, upheld complaints. */
export type AppStanding = Json<paths['/v1/app']['get']['responses'][200]['content']>;
