import type { Channel, ChannelSetting } from '../../../channels/channel.js';
import type { ChannelRegistry } from '../../../channels/registry.js';
import {
  EMAIL_PATTERN,
  MASKED_SECRET,
  MAX_EMAIL,
  MAX_SETTING_TEXT,
  PHONE_PATTERN,
} from '../../../channels/settingsValidation.js';
import { INBOX_CHANNEL } from '../../../domain/message/messageEvents.js';
import type { JsonSchema } from '../codecs.js';

/**
 * The JSON Schemas /openapi.json gives the devices routes' bodies, built from the server's channel
 * registry (plugins included). The route's codec takes any setting some channel declares, and
 * which ones a kind takes is checked against its channel (channels/settingsValidation.ts), so the
 * codec's own schema would let a client mix one kind's settings into another's device. These say
 * what the two checks accept together: one alternative per kind, with that channel's settings.
 */

/** What a value of `setting` must be, as `validateSettings` checks it. */
export const settingSchema = (setting: ChannelSetting): JsonSchema => {
  const described = {
    description: setting.description,
    ...(setting.default === undefined ? {} : { default: setting.default }),
  };
  switch (setting.type) {
    case 'string':
      // Not blank: at least one character that is not white space; with a declared pattern, the
      // value within the white space that is trimmed off must match it, and still not be blank.
      // The two are two patterns rather than one with a lookahead, which not every tool that
      // reads /openapi.json (fast-check's generator, say) understands.
      return {
        ...described,
        type: 'string',
        minLength: 1,
        maxLength: MAX_SETTING_TEXT,
        ...(setting.pattern === undefined
          ? { pattern: '\\S' }
          : { pattern: `^\\s*(?:${setting.pattern})\\s*$`, allOf: [{ pattern: '\\S' }] }),
      };
    case 'url':
      return {
        ...described,
        type: 'string',
        format: 'uri',
        maxLength: MAX_SETTING_TEXT,
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      };
    case 'email':
      return {
        ...described,
        type: 'string',
        format: 'email',
        maxLength: MAX_EMAIL,
        pattern: EMAIL_PATTERN.source,
      };
    case 'phone':
      return { ...described, type: 'string', pattern: PHONE_PATTERN.source };
    case 'boolean':
      return { ...described, type: 'boolean' };
    case 'integer':
      return { ...described, type: 'integer' };
    default: {
      const _exhaustive: never = setting.type;
      return _exhaustive;
    }
  }
};

/** Whether a setting of `type` could hold the mask itself as a value. */
const takesMask = (setting: ChannelSetting): boolean => setting.type === 'string';

/**
 * The settings object of one channel's device. For a new device (`change: false`) the required
 * settings without a default are required; for a change (PATCH) none is, since a setting left
 * out keeps its value, and a secret may be sent back masked. A generated setting is never typed
 * in, so it is not there.
 */
export const channelSettingsSchema = (
  channel: Pick<Channel, 'name' | 'settings'>,
  change: boolean,
): JsonSchema => {
  const typed = channel.settings.filter((setting) => setting.generated !== true);
  const required = change
    ? []
    : typed
        .filter((setting) => setting.required && setting.default === undefined)
        .map((setting) => setting.name);
  const valueOf = (setting: ChannelSetting): JsonSchema => {
    const schema = settingSchema(setting);
    return change && setting.secret && !takesMask(setting)
      ? { description: setting.description, anyOf: [schema, { const: MASKED_SECRET }] }
      : schema;
  };
  return {
    title: `${channel.name} settings`,
    type: 'object',
    properties: Object.fromEntries(typed.map((setting) => [setting.name, valueOf(setting)])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
};

/** The channels a person can add a device of, in the registry's order: all but the inbox. */
const deviceChannels = (channels: ChannelRegistry): readonly Channel[] =>
  channels.kinds
    .filter((kind) => kind !== INBOX_CHANNEL)
    .flatMap((kind) => {
      const channel = channels.get(kind);
      return channel === undefined ? [] : [channel];
    });

/** `anyOf` of `schemas`; a lone one as it is; none matches nothing (a server without devices). */
const alternatives = (schemas: readonly JsonSchema[], keyword: 'anyOf' | 'oneOf'): JsonSchema => {
  const [only] = schemas;
  if (only === undefined) return { not: {} };
  return schemas.length === 1 ? only : { [keyword]: schemas };
};

/**
 * The body of `POST /v1/me/devices`: one alternative per device kind, `{ kind, name?, settings }`
 * with `kind` that kind and `settings` its channel's. `name` is the schema of the device name.
 */
export const newDeviceSchema = (channels: ChannelRegistry, name: JsonSchema): JsonSchema => ({
  ...alternatives(
    deviceChannels(channels).map((channel) => ({
      title: channel.name,
      type: 'object',
      properties: {
        kind: { type: 'string', const: channel.kind },
        name,
        settings: channelSettingsSchema(channel, false),
      },
      required: ['kind', 'settings'],
      additionalProperties: false,
    })),
    'oneOf',
  ),
  description: 'One alternative per device kind of this server (GET /v1/channels)',
});

/**
 * The settings of `PATCH /v1/me/devices/:deviceId`: those of the stored device's channel, so any
 * one kind's (`anyOf`: `{}` is every kind's).
 */
export const deviceChangeSettingsSchema = (channels: ChannelRegistry): JsonSchema => ({
  ...alternatives(
    deviceChannels(channels).map((channel) => channelSettingsSchema(channel, true)),
    'anyOf',
  ),
  description: "The settings to change, of the device's own kind (GET /v1/channels)",
});
