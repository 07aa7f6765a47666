import { appsProjection } from './apps/appsProjection.js';
import { callbacksProjection } from './callbacks/callbacksProjection.js';
import { bindingsProjection } from './bindings/bindingsProjection.js';
import { complaintsProjection } from './complaints/complaintsProjection.js';
import { messagesProjection } from './messages/messagesProjection.js';
import { recipientsProjection } from './recipients/recipientsProjection.js';
import type { Projection } from './projection.js';

/** Every read model the server keeps up to date, in the order they are started. */
export const allProjections: readonly Projection[] = [
  appsProjection,
  recipientsProjection,
  bindingsProjection,
  complaintsProjection,
  messagesProjection,
  callbacksProjection,
];
