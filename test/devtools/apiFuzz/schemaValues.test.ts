import { expect } from 'chai';
import fc from 'fast-check';
import type { JsonSchema } from '../../../adapters/http/codecs.js';
import { JsonObject, Known, type JsonTree } from '../../../devtools/apiFuzz/fuzzCase.js';
import {
  propertiesOf,
  validValue,
  type ValueContext,
} from '../../../devtools/apiFuzz/schemaValues.js';
import { validate } from '../../support/jsonSchemaCheck.js';

/**
 * The fuzzer's values for a body of alternatives, shaped like `POST /v1/me/devices`: one per
 * kind, each with its own settings.
 */

const settings = (
  properties: Record<string, JsonSchema>,
  required: readonly string[],
): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

const alternative = (kind: string, kindSettings: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: {
    kind: { type: 'string', const: kind },
    name: { type: 'string', minLength: 1, maxLength: 64 },
    settings: kindSettings,
  },
  required: ['kind', 'settings'],
  additionalProperties: false,
});

const body: JsonSchema = {
  oneOf: [
    alternative(
      'bark',
      settings(
        {
          serverUrl: { type: 'string', format: 'uri' },
          deviceKey: { type: 'string', minLength: 1 },
        },
        ['serverUrl', 'deviceKey'],
      ),
    ),
    alternative(
      'mail',
      settings({ address: { type: 'string', format: 'email', maxLength: 254 } }, ['address']),
    ),
  ],
};

const FIXTURE: Readonly<Record<string, string>> = {
  serverUrl: 'https://bark.fixture.test',
  deviceKey: 'fixture-key',
};

/** The tree as plain JSON, fixture values filled in. */
const plain = (tree: JsonTree): unknown => {
  if (tree instanceof JsonObject)
    return Object.fromEntries(tree.members.map(([name, value]) => [name, plain(value)]));
  if (tree instanceof Known) return FIXTURE[tree.name];
  if (Array.isArray(tree)) return (tree as readonly JsonTree[]).map(plain);
  return tree;
};

describe('apiFuzz schema values: bodies of alternatives', () => {
  const context: ValueContext = {
    root: {},
    known: new Map([
      ['serverUrl', 'serverUrl'],
      ['deviceKey', 'deviceKey'],
    ]),
    now: Date.now(),
  };

  it('makes valid bodies of every alternative, Bark ones often with the fixture’s values', () => {
    const samples = fc.sample(validValue(context, body), { numRuns: 300, seed: 7 }).map(plain);
    const kinds = new Map<unknown, number>();
    let fixtureBark = 0;
    for (const sample of samples) {
      expect(validate({}, body, sample), JSON.stringify(sample)).to.deep.equal([]);
      const { kind, settings: values } = sample as { kind: string; settings: typeof FIXTURE };
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (kind === 'bark' && values['serverUrl'] === FIXTURE['serverUrl']) fixtureBark += 1;
      // `format: email` is an address, not any text (the server checks it).
      if (kind === 'mail') expect(values['address']).to.match(/^[^@\s]+@[^@\s]+\.[^@\s]+$/);
    }
    expect([...kinds.keys()]).to.have.members(['bark', 'mail']);
    expect(fixtureBark, 'Bark bodies with the fixture’s server').to.be.greaterThan(60);
  });

  it('lists the properties of every alternative: a kind as an enum, required where all require', () => {
    const properties = propertiesOf(context, body);
    expect(properties.map(({ name, required }) => [name, required])).to.deep.equal([
      ['kind', true],
      ['name', false],
      ['settings', true],
    ]);
    expect(properties[0]?.schema).to.deep.equal({ enum: ['bark', 'mail'] });
    const nested = propertiesOf(context, properties[2]?.schema);
    expect(nested.map(({ name, required }) => [name, required])).to.deep.equal([
      ['serverUrl', false],
      ['deviceKey', false],
      ['address', false],
    ]);
  });
});

describe('apiFuzz schema values: a string with patterns in allOf', () => {
  const context: ValueContext = { root: {}, known: new Map(), now: Date.now() };

  // The shape of a device setting whose declared pattern also matches a blank value: the
  // value must match both the wrapped pattern and `\S`, and a lookahead is not used for it.
  it('makes values that match every pattern, not only the last one folded in', () => {
    const schema: JsonSchema = {
      type: 'string',
      minLength: 1,
      pattern: '^\\s*(?:[a-z]*)\\s*$',
      allOf: [{ pattern: '\\S' }],
    };
    const samples = fc.sample(validValue(context, schema), { numRuns: 200, seed: 3 });
    for (const sample of samples) {
      expect(sample)
        .to.be.a('string')
        .and.match(/^\s*[a-z]+\s*$/);
      expect(validate({}, schema, sample), JSON.stringify(sample)).to.deep.equal([]);
    }
  });
});
