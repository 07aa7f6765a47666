import { expect } from 'chai';
import type { Channel, ChannelSetting } from '../../channels/channel.js';
import { checkChannelDeclaration } from '../../channels/declaration.js';
import { createChannelRegistry } from '../../channels/registry.js';
import { builtInChannels } from '../../channels/index.js';

const setting = (overrides: Partial<Record<keyof ChannelSetting, unknown>> = {}): unknown => ({
  name: 'token',
  description: 'access token',
  type: 'string',
  secret: true,
  required: true,
  ...overrides,
});

const declaration = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'matrix',
  name: 'Matrix room',
  settings: [setting()],
  render: () => ({}),
  send: () => Promise.resolve({ kind: 'delivered' }),
  ...overrides,
});

/** The one problem found, which must name `field`. */
const onlyProblem = (value: unknown): string => {
  const problems = checkChannelDeclaration(value);
  expect(problems, JSON.stringify(problems)).to.have.length(1);
  return problems[0]!;
};

describe('channel declaration check', () => {
  it('finds nothing wrong with every built-in channel and a full plugin declaration', () => {
    for (const channel of builtInChannels) {
      expect(checkChannelDeclaration(channel), channel.kind).to.deep.equal([]);
    }
    const full = declaration({
      settings: [
        setting(),
        setting({
          name: 'server',
          type: 'url',
          secret: false,
          required: false,
          default: 'https://x.example',
        }),
        setting({ name: 'quiet', type: 'boolean', secret: false, required: false, default: false }),
        setting({ name: 'priority', type: 'integer', secret: false, required: false, default: 3 }),
        setting({ name: 'signing_secret', secret: true, required: false, generated: true }),
        setting({ name: 'mail', type: 'email', secret: false, required: false }),
        setting({ name: 'phone', type: 'phone', secret: false, required: false }),
        setting({
          name: 'room',
          secret: false,
          required: false,
          pattern: '![A-Za-z0-9]+:[a-z.]+',
          default: '!abc:matrix.org',
        }),
      ],
      renderRecall: () => ({}),
    });
    expect(checkChannelDeclaration(full)).to.deep.equal([]);
  });

  it('refuses what is not an object', () => {
    for (const value of [undefined, null, 42, 'bark', [], () => undefined]) {
      expect(checkChannelDeclaration(value), String(value)).to.have.length.greaterThan(0);
    }
    expect(onlyProblem(null)).to.match(/must be an object/);
  });

  it('refuses a bad kind, naming the field', () => {
    for (const kind of [undefined, '', 'Matrix', '9lives', 'web push', 'x'.repeat(33), 7]) {
      expect(onlyProblem(declaration({ kind }))).to.match(/^kind must be 1-32 lowercase/);
    }
  });

  it('refuses a missing or empty name', () => {
    for (const name of [undefined, '', '   ', 3]) {
      expect(onlyProblem(declaration({ name }))).to.match(/^name must be a non-empty string/);
    }
  });

  it('refuses settings that are not an array', () => {
    expect(onlyProblem(declaration({ settings: {} }))).to.match(/^settings must be an array/);
    expect(onlyProblem(declaration({ settings: undefined }))).to.match(
      /^settings must be an array/,
    );
  });

  it('refuses a setting that is not an object, or whose name is malformed', () => {
    expect(onlyProblem(declaration({ settings: ['token'] }))).to.equal(
      'settings[0] must be an object',
    );
    for (const name of [undefined, '', '1st', 'room-id', 'a b', 'x'.repeat(65), 'é']) {
      expect(onlyProblem(declaration({ settings: [setting({ name })] }))).to.match(
        /^settings\[0\]\.name must be a letter/,
      );
    }
    expect(
      checkChannelDeclaration(declaration({ settings: [setting({ name: 'x'.repeat(64) })] })),
    ).to.deep.equal([]);
  });

  it('refuses a setting name that objects inherit (constructor, toString, …), which a settings lookup would read as a function', () => {
    for (const name of ['constructor', 'valueOf', 'toString', 'hasOwnProperty', 'isPrototypeOf']) {
      expect(onlyProblem(declaration({ settings: [setting({ name })] })), name).to.equal(
        `settings[0].name must not be "${name}", which every JavaScript object has`,
      );
    }
    expect(onlyProblem(declaration({ settings: [setting({ name: '__proto__' })] }))).to.match(
      /^settings\[0\]\.name must be a letter/,
    );
    expect(
      checkChannelDeclaration(declaration({ settings: [setting({ name: 'Constructor' })] })),
    ).to.deep.equal([]);
  });

  it('refuses a default on a required setting (a default is what an optional setting falls back to)', () => {
    expect(
      onlyProblem(
        declaration({ settings: [setting({ secret: false, required: true, default: 'x' })] }),
      ),
    ).to.equal('settings[0] ("token").default is for an optional setting: it is required');
    expect(
      checkChannelDeclaration(
        declaration({ settings: [setting({ secret: false, required: false, default: 'x' })] }),
      ),
    ).to.deep.equal([]);
  });

  it('refuses two settings of one name', () => {
    expect(
      onlyProblem(declaration({ settings: [setting(), setting({ secret: false })] })),
    ).to.equal('settings[1].name "token" is declared twice');
  });

  it('refuses a setting without a string description, a known type or boolean flags', () => {
    expect(onlyProblem(declaration({ settings: [setting({ description: undefined })] }))).to.equal(
      'settings[0] ("token").description must be a string',
    );
    for (const type of [undefined, 'text', 'number', 'URL']) {
      expect(onlyProblem(declaration({ settings: [setting({ type })] }))).to.match(
        /^settings\[0\] \("token"\)\.type must be one of string, url, email, phone, boolean, integer/,
      );
    }
    expect(onlyProblem(declaration({ settings: [setting({ secret: 'yes' })] }))).to.equal(
      'settings[0] ("token").secret must be true or false',
    );
    expect(onlyProblem(declaration({ settings: [setting({ required: undefined })] }))).to.equal(
      'settings[0] ("token").required must be true or false',
    );
  });

  it('refuses a default of the wrong type', () => {
    const cases: [string, unknown][] = [
      ['string', 3],
      ['url', true],
      ['email', 1],
      ['phone', false],
      ['boolean', 'false'],
      ['integer', 1.5],
      ['integer', '3'],
      ['integer', Number.NaN],
    ];
    for (const [type, value] of cases) {
      expect(
        onlyProblem(
          declaration({ settings: [setting({ type, required: false, default: value })] }),
        ),
        `${type} ${String(value)}`,
      ).to.equal(`settings[0] ("token").default must be a value of type ${type}`);
    }
  });

  it('refuses a pattern that is not text, is on a setting of another type, does not compile or refuses its default', () => {
    const refusal = (overrides: Record<string, unknown>) =>
      onlyProblem(declaration({ settings: [setting({ required: false, ...overrides })] }));
    expect(refusal({ pattern: 42 })).to.equal(
      'settings[0] ("token").pattern must be a non-empty string (a regular expression) when given',
    );
    expect(refusal({ pattern: '' })).to.match(/pattern must be a non-empty string/);
    expect(refusal({ type: 'url', pattern: 'https://.*' })).to.equal(
      'settings[0] ("token").pattern is for a setting of type string',
    );
    expect(refusal({ pattern: '[a-z' })).to.match(
      /^settings\[0\] \("token"\)\.pattern is not a valid regular expression: /,
    );
    // Compiles only once wrapped; wrapped, it would match anything starting with `a`.
    expect(refusal({ pattern: 'a)|(b' })).to.match(
      /^settings\[0\] \("token"\)\.pattern is not a valid regular expression: /,
    );
    // Valid with `u`, but a browser compiles the form's pattern with `v` and would drop it.
    expect(refusal({ pattern: '[-_A-Za-z0-9]{1,64}' })).to.match(
      /^settings\[0\] \("token"\)\.pattern is not valid with the v flag, as browsers compile a form's pattern/,
    );
    expect(refusal({ pattern: '[a-z]+', default: 'ABC' })).to.equal(
      'settings[0] ("token").default does not match its pattern',
    );
  });

  it('refuses a generated setting that is not secret, is required, or is one of two', () => {
    expect(
      onlyProblem(
        declaration({ settings: [setting({ generated: true, secret: false, required: false })] }),
      ),
    ).to.equal('settings[0] ("token").generated requires secret: true');
    expect(onlyProblem(declaration({ settings: [setting({ generated: true })] }))).to.equal(
      'settings[0] ("token").generated requires required: false',
    );
    expect(onlyProblem(declaration({ settings: [setting({ generated: 'yes' })] }))).to.equal(
      'settings[0] ("token").generated must be true or false when given',
    );
    expect(
      onlyProblem(
        declaration({
          settings: [
            setting({ generated: true, required: false }),
            setting({ name: 'other', generated: true, required: false }),
          ],
        }),
      ),
    ).to.equal('settings may have at most one generated setting, got 2');
  });

  it('refuses render or send that are not functions, and a renderRecall that is not one', () => {
    expect(onlyProblem(declaration({ render: undefined }))).to.match(/^render must be a function/);
    expect(onlyProblem(declaration({ send: {} }))).to.match(/^send must be a function/);
    expect(onlyProblem(declaration({ renderRecall: 'yes' }))).to.match(
      /^renderRecall must be a function when given/,
    );
  });

  it('is what the registry refuses with, naming the channel', () => {
    const bad = declaration({ name: '' }) as unknown as Channel;
    expect(() => createChannelRegistry([bad])).to.throw(
      'channel "matrix": name must be a non-empty string, got ""',
    );
    const kindless = declaration({ kind: undefined }) as unknown as Channel;
    expect(() => createChannelRegistry([builtInChannels[0]!, kindless])).to.throw(
      /^channel #2: kind must be/,
    );
  });
});
