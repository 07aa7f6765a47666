import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { IsoTime } from '../../../domain/shared/codecs.js';
import type { BindingCommand } from '../../../domain/binding/bindingCommands.js';
import { checkDestination } from '../../outbound/destinationGuard.js';
import { addDevice } from '../../../application/devices/addDevice.js';
import { removeDevice } from '../../../application/devices/removeDevice.js';
import { updateDevice } from '../../../application/devices/updateDevice.js';
import type { DeviceView } from '../../../projections/recipients/recipientQueries.js';
import { deviceDepsOf } from './deviceRoutes.js';
import { invocationOf, orRefusal } from './refusals.js';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, orProblem, type Route } from '../routing.js';
import type { BindingWithApp } from '../../../projections/bindings/bindingQueries.js';
import { commandContext, type ApiDeps } from './deps.js';

const BarkDeviceBody = strictObject('BarkDevice', {
  serverUrl: boundedString('BarkServerUrl', { minLength: 1, maxLength: 2048, format: 'uri' }),
  deviceKey: boundedString('BarkDeviceKey', {
    minLength: 1,
    maxLength: 128,
    pattern: /^[A-Za-z0-9_-]+$/,
    description: 'letters, digits, _ and -',
  }),
});

const BindingLevel = t.keyof({ strong: null, weak: null, none: null }, 'BindingLevel');

const BindingParams = strictObject('BindingParams', {
  bindingId: boundedString('BindingId', { minLength: 1, maxLength: 64 }),
});

const PatchBindingBody = strictObject(
  'PatchBinding',
  {},
  {
    level: BindingLevel,
    mutedUntil: t.union([IsoTime, t.null]),
    blocked: t.boolean,
    devices: t.union([
      t.array(boundedString('DeviceId', { minLength: 1, maxLength: 64 }), 'DeviceIds'),
      t.null,
    ]),
  },
);

const AuthorizedApp = t.type(
  {
    bindingId: t.string,
    appId: t.string,
    appName: t.string,
    openid: t.string,
    level: BindingLevel,
    mutedUntil: t.union([t.string, t.null]),
    blocked: t.boolean,
    /** The devices its strong messages reach; null: all of the person's working devices. */
    devices: t.union([t.array(t.string), t.null]),
    authorizedAt: t.string,
  },
  'AuthorizedApp',
);

const Me = t.type(
  {
    recipientId: t.string,
    username: t.string,
    devices: t.partial({
      bark: t.intersection([
        t.type({ serverUrl: t.string }),
        // Extension: why Bark refused the device key for good; pushes resume once it is set again.
        t.partial({ broken: t.string }),
      ]),
    }),
  },
  'Me',
);

/** A binding as the person's app list shows it. */
const authorizedApp = (row: BindingWithApp): t.TypeOf<typeof AuthorizedApp> => ({
  bindingId: row.binding_id,
  appId: row.app_id,
  appName: row.app_name,
  openid: row.openid,
  level: row.level,
  mutedUntil: row.muted_until,
  blocked: row.blocked === 1,
  devices: row.devices === null ? null : (JSON.parse(row.devices) as string[]),
  authorizedAt: row.authorized_at,
});

/** The person's first Bark device, which the compatible Bark routes address (docs/api.md). */
const firstBark = (devices: readonly DeviceView[]): DeviceView | undefined =>
  devices.find(({ kind }) => kind === 'bark');

/** The person's own account, devices and authorized apps (docs/api.md, "Recipient"). */
export const meRoutes = (deps: ApiDeps): Route[] => {
  const devices = deviceDepsOf(deps);
  const add = addDevice(devices);
  const update = updateDevice(devices);
  const remove = removeDevice(devices);

  /** One of the person's active bindings, or 404 (also for someone else's: docs/api.md). */
  const ownBinding = (recipientId: string, bindingId: string): BindingWithApp => {
    const row = deps.bindings
      .activeForRecipient(recipientId)
      .find((b) => b.binding_id === bindingId);
    if (row === undefined) throw new ProblemError('not_found', `no authorized app ${bindingId}`);
    return row;
  };

  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/me',
        tag: 'recipient',
        summary: 'The logged-in person',
        auth: 'recipient',
        responses: { 200: { description: 'The account and its devices', body: Me } },
      },
      (request) => {
        const row = deps.recipients.byId(request.caller.recipientId);
        if (row === undefined) throw new ProblemError('not_found', 'the account no longer exists');
        const bark = firstBark(deps.recipients.devices(row.recipient_id));
        const serverUrl = bark?.settings['serverUrl'];
        return Promise.resolve({
          status: 200,
          body: {
            recipientId: row.recipient_id,
            username: row.username,
            // The device key is a credential of the person's phone: never echoed.
            devices:
              bark === undefined || serverUrl === undefined
                ? {}
                : {
                    bark: {
                      serverUrl,
                      ...(bark.broken === undefined ? {} : { broken: bark.broken }),
                    },
                  },
          },
        });
      },
    ),
    defineRoute(
      {
        method: 'put',
        path: '/v1/me/devices/bark',
        tag: 'recipient',
        summary: 'Set the Bark device strong messages are pushed to',
        description:
          'Saves your first Bark device (adds one if you have none); kept for older clients, POST/PATCH /v1/me/devices do the same for any kind. The server must be http(s) and may not be a private, loopback, link-local or metadata address (after DNS resolution) unless listed in TIDINGS_OUTBOUND_ALLOWLIST.',
        auth: 'recipient',
        body: BarkDeviceBody,
        errors: ['forbidden_destination'],
        responses: { 200: { description: 'Saved', body: t.type({ serverUrl: t.string }) } },
      },
      async (request) => {
        const { serverUrl, deviceKey } = request.body;
        const checked = await checkDestination(serverUrl, {
          allowlist: deps.outboundAllowlist,
          ...(deps.resolver === undefined ? {} : { lookup: deps.resolver }),
        });
        if (E.isLeft(checked)) {
          throw new ProblemError('forbidden_destination', checked.left.detail, {
            reason: checked.left.reason,
            errors: [{ path: '/serverUrl', message: checked.left.detail }],
          });
        }
        const normalized = checked.right.url.href.replace(/\/+$/, '');
        const { recipientId } = request.caller;
        const settings = { serverUrl: normalized, deviceKey };
        const bark = firstBark(deps.recipients.devices(recipientId));
        const call = invocationOf(request);
        orRefusal(
          bark === undefined
            ? await add(recipientId, { kind: 'bark', settings }, call)
            : await update(recipientId, bark.deviceId, { settings }, call),
        );
        return { status: 200, body: { serverUrl: normalized } };
      },
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/me/devices/bark',
        tag: 'recipient',
        summary: 'Remove the Bark device',
        description: 'Removes your first Bark device, if you have one.',
        auth: 'recipient',
        responses: { 204: { description: 'Removed (or there was none)' } },
      },
      async (request) => {
        const { recipientId } = request.caller;
        const bark = firstBark(deps.recipients.devices(recipientId));
        if (bark !== undefined) {
          orRefusal(await remove(recipientId, bark.deviceId, invocationOf(request)));
        }
        return { status: 204 };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/apps',
        tag: 'recipient',
        summary: 'The apps the person has authorized',
        auth: 'recipient',
        responses: {
          200: {
            description: 'Authorized apps, newest first',
            body: t.type({ items: t.array(AuthorizedApp) }),
          },
        },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: {
            items: deps.bindings.activeForRecipient(request.caller.recipientId).map(authorizedApp),
          },
        }),
    ),
    defineRoute(
      {
        method: 'patch',
        path: '/v1/me/apps/:bindingId',
        tag: 'recipient',
        summary: "Change an app's level, mute, block or devices",
        description:
          "All given changes apply together or not at all. mutedUntil: a future time mutes device pushes until then (messages still reach the inbox); null unmutes. devices: the ids of your devices the app's strong messages reach (each one of yours), or null for all of them.",
        auth: 'recipient',
        params: BindingParams,
        body: PatchBindingBody,
        errors: ['not_found', 'conflict'],
        responses: { 200: { description: 'The binding after the change', body: AuthorizedApp } },
      },
      async (request) => {
        const { recipientId } = request.caller;
        const { bindingId } = request.params;
        ownBinding(recipientId, bindingId);
        const { level, mutedUntil, blocked, devices: chosen } = request.body;
        if (chosen !== undefined && chosen !== null) {
          const own = new Set(deps.recipients.devices(recipientId).map((d) => d.deviceId));
          const problems = chosen.flatMap((deviceId, index) =>
            own.has(deviceId)
              ? []
              : [{ path: `/devices/${index}`, message: `is not one of your devices` }],
          );
          if (problems.length > 0) {
            throw new ProblemError('validation_failed', 'devices names unknown devices', {
              errors: problems,
            });
          }
        }
        const metadata = { now: request.now };
        const owned = { bindingId, recipientId };
        const commands: BindingCommand[] = [];
        if (level !== undefined)
          commands.push({ type: 'ChangeBindingLevel', data: { ...owned, level }, metadata });
        if (mutedUntil === null) commands.push({ type: 'UnmuteBinding', data: owned, metadata });
        else if (mutedUntil !== undefined)
          commands.push({ type: 'MuteBinding', data: { ...owned, until: mutedUntil }, metadata });
        if (blocked === true) commands.push({ type: 'BlockBinding', data: owned, metadata });
        if (blocked === false) commands.push({ type: 'UnblockBinding', data: owned, metadata });
        if (chosen !== undefined) {
          commands.push({
            type: 'ChooseBindingDevices',
            data: { ...owned, devices: chosen },
            metadata,
          });
        }
        if (commands.length > 0) {
          orProblem(
            await deps.commands.execute('binding', bindingId, commands, commandContext(request)),
          );
        }
        return { status: 200, body: authorizedApp(ownBinding(recipientId, bindingId)) };
      },
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/me/apps/:bindingId',
        tag: 'recipient',
        summary: 'Unbind an app',
        description:
          'The app can no longer reach the person; its pushes answer 410 binding_revoked.',
        auth: 'recipient',
        params: BindingParams,
        errors: ['not_found'],
        responses: { 204: { description: 'Unbound' } },
      },
      async (request) => {
        const { recipientId } = request.caller;
        const { bindingId } = request.params;
        ownBinding(recipientId, bindingId);
        orProblem(
          await deps.commands.execute(
            'binding',
            bindingId,
            {
              type: 'RevokeBinding',
              data: { bindingId, recipientId },
              metadata: { now: request.now },
            },
            commandContext(request),
          ),
        );
        return { status: 204 };
      },
    ),
  ];
};
