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

/** What to register as the app's callback: `url`, the event types (all by default), `rotateSecret`. */
export type CallbackSettings = Json<paths['/v1/app/callback']['put']['requestBody']['content']>;

/** One type of callback event, e.g. `binding.authorized` or `message.delivered`. */
export type CallbackEventType = NonNullable<CallbackSettings['events']>[number];

/** The registered callback with its signing secret (`whsec_…`), shown only in this answer. */
export type RegisteredCallback = Json<
  paths['/v1/app/callback']['put']['responses'][200]['content']
>;

/** The app's callback: its URL and the event types it gets (never its secret). */
export type Callback = Json<paths['/v1/app/callback']['get']['responses'][200]['content']>;

/** Which callback deliveries to list: one `status` only, and at most `limit` (100 by default). */
export type CallbackDeliveriesQuery = NonNullable<
  paths['/v1/app/callback/deliveries']['get']['parameters']['query']
>;

/** The app's recent callback deliveries, newest first. */
export type CallbackDeliveries = Json<
  paths['/v1/app/callback/deliveries']['get']['responses'][200]['content']
>;

/** One callback delivery: its event, status, attempts and last outcome. */
export type CallbackDelivery = CallbackDeliveries['items'][number];

/** The answer to a retry of a callback delivery: its id and status. */
export type CallbackRetry = Json<
  paths['/v1/app/callback/deliveries/{id}/retry']['post']['responses'][202]['content']
>;

/** A change to the app: `compatIngress` on or off. */
export type AppChange = Json<paths['/v1/app']['patch']['requestBody']['content']>;

/** The answer to a change of the app: whether the compatible ingress is on. */
export type AppChanged = Json<paths['/v1/app']['patch']['responses'][200]['content']>;
