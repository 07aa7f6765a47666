import * as t from 'io-ts';
import { eventCodec, IsoTime, typeNamesOf } from '../shared/codecs.js';

/** The level a person grants at consent: `none` is only reachable later, by changing it. */
export const ConsentLevel = t.keyof({ strong: null, weak: null });
export type ConsentLevel = t.TypeOf<typeof ConsentLevel>;

/** How loudly an app may reach the person (docs/architecture.md: strong, weak, none). */
export const BindingLevel = t.keyof({ strong: null, weak: null, none: null });
export type BindingLevel = t.TypeOf<typeof BindingLevel>;

/**
 * A person allowed an app to reach them under the app's own user id `openid`. Only the hash of
 * the binding key is kept; the key itself went to the app once, in the consent redirect.
 */
export const BindingAuthorized = eventCodec(
  'BindingAuthorized',
  t.type({
    bindingId: t.string,
    appId: t.string,
    recipientId: t.string,
    openid: t.string,
    level: ConsentLevel,
    keyHash: t.string,
  }),
);
export type BindingAuthorized = t.TypeOf<typeof BindingAuthorized>;

/**
 * Consent was given again for the same (app, openid): the binding is active under `recipientId`
 * with a fresh key, and the previous key no longer works. Blocks and mutes are cleared, since
 * the person has just chosen anew.
 */
export const BindingReauthorized = eventCodec(
  'BindingReauthorized',
  t.type({
    bindingId: t.string,
    recipientId: t.string,
    level: ConsentLevel,
    keyHash: t.string,
  }),
);
export type BindingReauthorized = t.TypeOf<typeof BindingReauthorized>;

/** The person changed how loudly the app may reach them. */
export const BindingLevelChanged = eventCodec(
  'BindingLevelChanged',
  t.type({ bindingId: t.string, level: BindingLevel }),
);
export type BindingLevelChanged = t.TypeOf<typeof BindingLevelChanged>;

/** Do not disturb until `until`: messages still reach the inbox, nothing goes to devices. */
export const BindingMuted = eventCodec(
  'BindingMuted',
  t.type({ bindingId: t.string, until: IsoTime }),
);
export type BindingMuted = t.TypeOf<typeof BindingMuted>;

/** The person ended do-not-disturb early. */
export const BindingUnmuted = eventCodec('BindingUnmuted', t.type({ bindingId: t.string }));
export type BindingUnmuted = t.TypeOf<typeof BindingUnmuted>;

/** The person blocked the app: its messages are suppressed, but the binding stays. */
export const BindingBlocked = eventCodec('BindingBlocked', t.type({ bindingId: t.string }));
export type BindingBlocked = t.TypeOf<typeof BindingBlocked>;

/** The person unblocked the app. */
export const BindingUnblocked = eventCodec('BindingUnblocked', t.type({ bindingId: t.string }));
export type BindingUnblocked = t.TypeOf<typeof BindingUnblocked>;

/**
 * The person chose which of their devices the app's strong messages reach: the listed device ids,
 * or all their working devices (`null`, the default). A re-authorization goes back to all.
 */
export const BindingDevicesChosen = eventCodec(
  'BindingDevicesChosen',
  t.type({ bindingId: t.string, devices: t.union([t.readonlyArray(t.string), t.null]) }),
);
export type BindingDevicesChosen = t.TypeOf<typeof BindingDevicesChosen>;

/** The person unbound the app; its sends answer `binding_revoked` until consent is given again. */
export const BindingRevoked = eventCodec('BindingRevoked', t.type({ bindingId: t.string }));
export type BindingRevoked = t.TypeOf<typeof BindingRevoked>;

/** Every event of the Binding aggregate (stream `binding-<bindingId>`). */
export const BindingEventCodec = t.union([
  BindingAuthorized,
  BindingReauthorized,
  BindingLevelChanged,
  BindingMuted,
  BindingUnmuted,
  BindingBlocked,
  BindingUnblocked,
  BindingDevicesChosen,
  BindingRevoked,
]);
export type BindingEvent = t.TypeOf<typeof BindingEventCodec>;

/** The type names of Binding events, read off the codecs. */
export const bindingEventTypes: readonly BindingEvent['type'][] = typeNamesOf(BindingEventCodec);
