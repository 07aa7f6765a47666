import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { addDevice, MAX_DEVICE_NAME } from '../../../application/devices/addDevice.js';
import type { DestinationCheck, DeviceDeps } from '../../../application/devices/deviceDeps.js';
import { removeDevice } from '../../../application/devices/removeDevice.js';
import { updateDevice } from '../../../application/devices/updateDevice.js';
import { INBOX_CHANNEL } from '../../../domain/message/messageEvents.js';
import { checkDestination } from '../../outbound/destinationGuard.js';
import { secureIds } from '../../security/secureIds.js';
import { boundedString, strictObject, withSchema } from '../codecs.js';
import { toJsonSchema } from '../jsonSchema.js';
import { defineRoute, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';
import type { ChannelRegistry } from '../../../channels/registry.js';
import { deviceChangeSettingsSchema, newDeviceSchema } from './deviceSchemas.js';
import { DeviceView, deviceView, SettingValueCodec } from './deviceView.js';
import { invocationOf, orRefusal } from './refusals.js';

const DeviceName = boundedString('DeviceName', { minLength: 1, maxLength: MAX_DEVICE_NAME });

/**
 * The settings object of a request: any setting some channel of this server declares, each a
 * text, number or yes/no; which of them a kind takes, and their types, are checked against its
 * channel (channels/settingsValidation.ts), whose messages name the kind's own rules. What the two
 * accept together is documented per kind (deviceSchemas.ts), not by this codec's own schema.
 */
const settingsCodec = (channels: ChannelRegistry) => {
  const names = new Set(
    channels.kinds.flatMap((kind) => channels.get(kind)?.settings.map((s) => s.name) ?? []),
  );
  return strictObject(
    'DeviceSettings',
    {},
    Object.fromEntries([...names].map((name) => [name, SettingValueCodec])),
  );
};

/** Path parameters of one device. */
export const DeviceParams = strictObject('DeviceParams', {
  deviceId: boundedString('DeviceId', { minLength: 1, maxLength: 64 }),
});

const ChannelSettingView = t.intersection(
  [
    t.type({
      name: t.string,
      description: t.string,
      type: t.string,
      secret: t.boolean,
      required: t.boolean,
    }),
    t.partial({ default: SettingValueCodec, generated: t.boolean, pattern: t.string }),
  ],
  'ChannelSetting',
);

const ChannelView = t.type(
  { kind: t.string, name: t.string, settings: t.array(ChannelSettingView) },
  'Channel',
);

/** The outbound guard's save-time check with the server's allowlist and resolver. */
export const destinationCheckOf =
  (deps: Pick<ApiDeps, 'outboundAllowlist' | 'resolver'>): DestinationCheck =>
  async (url) => {
    const checked = await checkDestination(url, {
      allowlist: deps.outboundAllowlist,
      ...(deps.resolver === undefined ? {} : { lookup: deps.resolver }),
    });
    return E.isLeft(checked)
      ? { detail: checked.left.detail, reason: checked.left.reason }
      : undefined;
  };

/** What the devices use cases are given by the HTTP adapter. */
export const deviceDepsOf = (deps: ApiDeps): DeviceDeps => ({
  commands: deps.commands,
  recipients: deps.recipients,
  channels: deps.channels,
  secrets: deps.secrets,
  ids: secureIds,
  checkDestination: destinationCheckOf(deps),
  randomBytes: (size) => randomBytes(size),
});

/** The channels and a person's devices, of any kind (docs/api.md, "Devices"). */
export const deviceRoutes = (deps: ApiDeps): Route[] => {
  const NewDeviceBody = withSchema(
    strictObject(
      'NewDevice',
      {
        kind: boundedString('DeviceKind', { minLength: 1, maxLength: 32 }),
        settings: settingsCodec(deps.channels),
      },
      { name: DeviceName },
    ),
    newDeviceSchema(deps.channels, toJsonSchema(DeviceName)),
  );
  const DeviceChangeBody = strictObject(
    'DeviceChange',
    {},
    {
      name: DeviceName,
      settings: withSchema(settingsCodec(deps.channels), deviceChangeSettingsSchema(deps.channels)),
    },
  );
  const devices = deviceDepsOf(deps);
  const add = addDevice(devices);
  const update = updateDevice(devices);
  const remove = removeDevice(devices);
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/channels',
        tag: 'recipient',
        summary: 'The channels a device can be added for',
        description:
          "Every channel of this server, plugins included, with the settings a device of it takes. The inbox is not listed: it is every person's, not a device kind.",
        auth: 'none',
        responses: {
          200: { description: 'The channels', body: t.type({ items: t.array(ChannelView) }) },
        },
      },
      () =>
        Promise.resolve({
          status: 200,
          body: {
            items: deps.channels.kinds
              .filter((kind) => kind !== INBOX_CHANNEL)
              .flatMap((kind) => {
                const channel = deps.channels.get(kind);
                return channel === undefined
                  ? []
                  : [
                      {
                        kind: channel.kind,
                        name: channel.name,
                        settings: channel.settings.map((s) => ({
                          name: s.name,
                          description: s.description,
                          type: s.type,
                          secret: s.secret,
                          required: s.required,
                          ...(s.default === undefined ? {} : { default: s.default }),
                          ...(s.generated === undefined ? {} : { generated: s.generated }),
                          ...(s.pattern === undefined ? {} : { pattern: s.pattern }),
                        })),
                      },
                    ];
              }),
          },
        }),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/devices',
        tag: 'recipient',
        summary: 'Your devices',
        description:
          'In the order you added them. Secret settings read "********"; broken is null or why the channel refused the device for good (save it again to clear it).',
        auth: 'recipient',
        responses: {
          200: { description: 'The devices', body: t.type({ items: t.array(DeviceView) }) },
        },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: { items: deps.recipients.devices(request.caller.recipientId).map(deviceView) },
        }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/me/devices',
        tag: 'recipient',
        summary: 'Add a device',
        description:
          "Settings are checked against the channel's declared settings (GET /v1/channels); every url setting must pass the outbound guard. name defaults to the channel's name. A channel with a generated setting (webhook) answers it once, as secret. At most 20 devices per person (422 illegal_state).",
        auth: 'recipient',
        body: NewDeviceBody,
        errors: ['forbidden_destination', 'illegal_state'],
        responses: {
          201: {
            description: 'Added',
            body: t.intersection([DeviceView, t.partial({ secret: t.string })], 'NewDeviceAnswer'),
          },
        },
      },
      async (request) => {
        const saved = orRefusal(
          await add(request.caller.recipientId, request.body, invocationOf(request)),
        );
        return {
          status: 201,
          body: {
            ...deviceView(saved.device),
            ...(saved.secret === undefined ? {} : { secret: saved.secret }),
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'patch',
        path: '/v1/me/devices/:deviceId',
        tag: 'recipient',
        summary: 'Change a device',
        description:
          'The given settings are merged over the stored ones: a setting left out, or a secret sent back as "********", keeps its value. Saving a broken device clears the mark. A secret that can no longer be read (the server\'s device-secrets.key changed) must be given again (400 validation_failed naming it); a generated one is made anew and answered once, as secret.',
        auth: 'recipient',
        params: DeviceParams,
        body: DeviceChangeBody,
        errors: ['not_found', 'forbidden_destination', 'illegal_state'],
        responses: {
          200: {
            description:
              'The device after the change; secret once, when a generated setting was made anew (its old value could no longer be read)',
            body: t.intersection(
              [DeviceView, t.partial({ secret: t.string })],
              'ChangedDeviceAnswer',
            ),
          },
        },
      },
      async (request) => {
        const saved = orRefusal(
          await update(
            request.caller.recipientId,
            request.params.deviceId,
            request.body,
            invocationOf(request),
          ),
        );
        return {
          status: 200,
          body: {
            ...deviceView(saved.device),
            ...(saved.secret === undefined ? {} : { secret: saved.secret }),
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/me/devices/:deviceId',
        tag: 'recipient',
        summary: 'Remove a device',
        auth: 'recipient',
        params: DeviceParams,
        errors: ['not_found'],
        responses: { 204: { description: 'Removed' } },
      },
      async (request) => {
        orRefusal(
          await remove(request.caller.recipientId, request.params.deviceId, invocationOf(request)),
        );
        return { status: 204 };
      },
    ),
  ];
};
