import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  channelSettingsSchema,
  newDeviceSchema,
} from '../../../../adapters/http/api/deviceSchemas.js';
import type { JsonSchema } from '../../../../adapters/http/codecs.js';
import type { HostResolver } from '../../../../adapters/outbound/destinationGuard.js';
import type { Channel } from '../../../../channels/channel.js';
import { createBuiltInRegistry } from '../../../../channels/index.js';
import { MASKED_SECRET, validateSettings } from '../../../../channels/settingsValidation.js';
import { INBOX_CHANNEL } from '../../../../domain/message/messageEvents.js';
import { registerPerson, type Person } from '../../../support/httpFixtures.js';
import { validate } from '../../../support/jsonSchemaCheck.js';
import { call, startTestServer, type TestServer } from '../../../support/testServer.js';

interface Document {
  readonly paths: Record<
    string,
    Record<string, { readonly requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >;
}

/**
 * The devices routes' request bodies in /openapi.json say what the server takes: one alternative
 * per device kind with that channel's settings only, so a body the document accepts is added and
 * one it refuses (another kind's setting, a generated one, a missing one) is refused by the server.
 */
describe('HTTP devices API: the documented bodies', () => {
  const resolver: HostResolver = () => Promise.resolve([{ address: '93.184.216.34', family: 4 }]);
  let server: TestServer;
  let document: Document;
  let person: Person;
  before(async () => {
    server = await startTestServer({ resolver });
    document = (await call<Document>(server.base, 'GET', '/openapi.json')).body;
    person = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  const bodyOf = (method: string, path: string): JsonSchema => {
    const schema = document.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
    if (schema === undefined) return expect.fail(`${method} ${path} documents no body`);
    return schema;
  };
  const newDevice = (): JsonSchema => bodyOf('post', '/v1/me/devices');
  const deviceKinds = (): string[] =>
    server.tidings.channels.kinds.filter((kind) => kind !== INBOX_CHANNEL);

  it('POST /v1/me/devices: one alternative per device kind, with only its own settings', () => {
    const alternatives = newDevice().oneOf ?? [];
    expect(alternatives.map((schema) => schema.properties?.['kind']?.const)).to.deep.equal(
      deviceKinds(),
    );
    for (const alternative of alternatives) {
      const kind = String(alternative.properties?.['kind']?.const);
      const channel = server.tidings.channels.get(kind);
      const settings = alternative.properties?.['settings'];
      expect(alternative.required, kind).to.deep.equal(['kind', 'settings']);
      expect(alternative.additionalProperties, kind).to.equal(false);
      expect(settings?.additionalProperties, kind).to.equal(false);
      expect(Object.keys(settings?.properties ?? {}), kind).to.deep.equal(
        channel?.settings.filter((s) => s.generated !== true).map((s) => s.name),
      );
      expect(settings?.required ?? [], kind).to.deep.equal(
        channel?.settings
          .filter((s) => s.required && s.default === undefined && s.generated !== true)
          .map((s) => s.name),
      );
    }
    const ntfy = alternatives.find((schema) => schema.properties?.['kind']?.const === 'ntfy');
    expect(ntfy?.properties?.['settings']?.properties?.['serverUrl']).to.deep.include({
      type: 'string',
      format: 'uri',
      default: 'https://ntfy.sh',
    });
  });

  it('a body it documents is added, one it refuses is 400, for every case below', async () => {
    const cases: readonly { body: unknown; documented: boolean }[] = [
      {
        body: { kind: 'bark', settings: { serverUrl: 'https://bark.test', deviceKey: 'k' } },
        documented: true,
      },
      { body: { kind: 'ntfy', name: 'Phone', settings: { topic: 'alerts_1' } }, documented: true },
      { body: { kind: 'webhook', settings: { url: 'https://hooks.test/x' } }, documented: true },
      // What the old schema let through: another kind's setting in a Bark device.
      {
        body: {
          kind: 'bark',
          settings: { serverUrl: 'https://bark.test', deviceKey: 'k', topic: 'alerts' },
        },
        documented: false,
      },
      { body: { kind: 'bark', settings: { serverUrl: 'https://bark.test' } }, documented: false },
      {
        body: { kind: 'webhook', settings: { url: 'https://hooks.test/x', secret: 'whsec_x' } },
        documented: false,
      },
      { body: { kind: 'ntfy', settings: { topic: '   ' } }, documented: false },
      {
        body: { kind: 'ntfy', settings: { topic: 'a', serverUrl: 'ftp://ntfy.test' } },
        documented: false,
      },
      { body: { kind: 'inbox', settings: {} }, documented: false },
      { body: { kind: 'pager', settings: {} }, documented: false },
    ];
    for (const { body, documented } of cases) {
      const problems = validate(document, newDevice(), body);
      expect(problems.length === 0, `${JSON.stringify(body)} documented`).to.equal(documented);
      const reply = await call(server.base, 'POST', '/v1/me/devices', {
        cookie: person.cookie,
        body,
      });
      expect(reply.status, JSON.stringify({ body, answer: reply.body })).to.equal(
        documented ? 201 : 400,
      );
    }
  });

  it("PATCH: settings are any one kind's, none required, unknown names refused", () => {
    const settings = bodyOf('patch', '/v1/me/devices/{deviceId}').properties?.['settings'];
    const alternatives = settings?.anyOf ?? [];
    expect(alternatives).to.have.length(deviceKinds().length);
    for (const alternative of alternatives) {
      expect(alternative.required).to.equal(undefined);
      expect(alternative.additionalProperties).to.equal(false);
    }
    expect(validate(document, settings ?? {}, { deviceKey: 'k' })).to.deep.equal([]);
    expect(validate(document, settings ?? {}, {})).to.deep.equal([]);
    expect(validate(document, settings ?? {}, { deviceKey: 'k', topic: 't' })).to.not.deep.equal(
      [],
    );
  });
});

/** A plugin's channel with a setting of every type, to hold the schemas against the validator. */
const everyType: Channel = {
  kind: 'every-type',
  name: 'Every type',
  settings: [
    { name: 'text', description: 'text', type: 'string', secret: false, required: true },
    { name: 'link', description: 'a URL', type: 'url', secret: false, required: false },
    { name: 'mail', description: 'an address', type: 'email', secret: true, required: false },
    { name: 'phone', description: 'a number', type: 'phone', secret: false, required: false },
    { name: 'loud', description: 'yes or no', type: 'boolean', secret: false, required: false },
    { name: 'count', description: 'how many', type: 'integer', secret: false, required: false },
    // A pattern that also matches the empty value: the schema must still refuse a blank one.
    {
      name: 'code',
      description: 'lower-case letters',
      type: 'string',
      secret: false,
      required: false,
      pattern: '[a-z]*',
    },
    {
      name: 'retries',
      description: 'with a default',
      type: 'integer',
      secret: false,
      required: false,
      default: 3,
    },
  ],
  render: () => ({}),
  send: () => Promise.resolve({ kind: 'delivered' }),
};

describe('device body schemas (adapters/http/api/deviceSchemas.ts)', () => {
  const registry = createBuiltInRegistry([everyType]);
  const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 64 };

  it("list a plugin's kind after the built-in ones, never the inbox", () => {
    const kinds = (newDeviceSchema(registry, name).oneOf ?? []).map(
      (alternative) => alternative.properties?.['kind']?.const,
    );
    expect(kinds).to.deep.equal(['bark', 'ntfy', 'webhook', 'every-type']);
  });

  // Values as a client types them: the validator also trims padding, which the patterns refuse.
  it('take a setting value exactly when validateSettings does, for every type', () => {
    const schema = channelSettingsSchema(everyType, false);
    expect(schema.required).to.deep.equal(['text']);
    expect(schema.properties?.['retries']?.default).to.equal(3);
    const values: Record<string, readonly unknown[]> = {
      text: ['a', ' a ', '', '   ', '\n', 7, true, 'x'.repeat(2048), 'x'.repeat(2049)],
      link: ['https://a.test/x', 'HTTP://a.test', 'ftp://a.test', 'a.test', '', 1],
      mail: ['a@b.test', 'a@b', 'not an address', 'a b@c.test', 1],
      phone: ['+8613800138000', '+12345678', '+1234567', '+0123456789', '8613800138000', 1],
      loud: [true, false, 'true', 0],
      count: [0, -5, 12, 1.5, '3'],
      code: ['abc', ' abc ', 'ABC', 'a-b', '', '   ', 7],
      retries: [1, 0.5],
    };
    for (const [setting, candidates] of Object.entries(values)) {
      for (const value of candidates) {
        const input = setting === 'text' ? { text: value } : { text: 'a', [setting]: value };
        const documented = validate({}, schema, input).length === 0;
        const accepted = E.isRight(validateSettings(everyType, input));
        expect(documented, `${setting} = ${JSON.stringify(value)}`).to.equal(accepted);
      }
    }
    expect(validate({}, schema, {})).to.not.deep.equal([]);
    expect(validate({}, schema, { text: 'a', other: 1 })).to.not.deep.equal([]);
  });

  it('on a change, require nothing and let a secret of another type be sent back masked', () => {
    const schema = channelSettingsSchema(everyType, true);
    expect(schema.required).to.equal(undefined);
    expect(validate({}, schema, { mail: MASKED_SECRET })).to.deep.equal([]);
    expect(validate({}, schema, { link: MASKED_SECRET })).to.not.deep.equal([]);
    expect(
      E.isRight(
        validateSettings(everyType, { mail: MASKED_SECRET }, { text: 'a', mail: 'a@b.test' }),
      ),
    ).to.equal(true);
  });
});
