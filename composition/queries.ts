import { appQueries, type AppQueries } from '../projections/apps/appQueries.js';
import { bindingQueries, type BindingQueries } from '../projections/bindings/bindingQueries.js';
import {
  recipientQueries,
  type RecipientQueries,
} from '../projections/recipients/recipientQueries.js';
import { messageQueries, type MessageQueries } from '../projections/messages/messageQueries.js';
import { callbackQueries, type CallbackQueries } from '../projections/callbacks/callbackQueries.js';
import type { SqliteDatabase } from '../adapters/sqlite/database.js';

/** The read-model queries that requests, the pipeline and the pages share. */
export interface Queries {
  readonly apps: AppQueries;
  readonly recipients: RecipientQueries;
  readonly bindings: BindingQueries;
  readonly messages: MessageQueries;
  readonly callbacks: CallbackQueries;
}

/** The shared queries over the data folder's read models. */
export const queriesOf = (db: SqliteDatabase): Queries => ({
  apps: appQueries(db),
  recipients: recipientQueries(db),
  bindings: bindingQueries(db),
  messages: messageQueries(db),
  callbacks: callbackQueries(db),
});
