import * as t from 'io-ts';

/**
 * The kinds of event an app's callback receives (docs/api.md, "App callbacks"). Their data never
 * holds a message's contents or who complained.
 */
export const CallbackEventType = t.keyof(
  {
    'binding.authorized': null,
    'binding.revoked': null,
    'message.delivered': null,
    'message.failed': null,
    'message.rejected': null,
    'app.penalized': null,
    'app.suspended': null,
    'app.banned': null,
    'app.reinstated': null,
  },
  'CallbackEventType',
);
export type CallbackEventType = t.TypeOf<typeof CallbackEventType>;

/** Every callback event type, in the order docs/api.md lists them. */
export const callbackEventTypes: readonly CallbackEventType[] = Object.keys(
  CallbackEventType.keys,
) as CallbackEventType[];
