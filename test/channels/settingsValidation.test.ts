import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { ChannelSetting } from '../../channels/channel.js';
import { MASKED_SECRET, validateSettings } from '../../channels/settingsValidation.js';

const setting = (
  name: string,
  type: ChannelSetting['type'],
  extra: Partial<ChannelSetting> = {},
): ChannelSetting => ({ name, description: name, type, secret: false, required: true, ...extra });

const channel = {
  settings: [
    setting('serverUrl', 'url'),
    setting('topic', 'string'),
    setting('token', 'string', { secret: true, required: false }),
    setting('address', 'email', { required: false }),
    setting('phone', 'phone', { required: false }),
    setting('markdown', 'boolean', { required: false, default: false }),
    setting('priority', 'integer', { required: false }),
  ],
};
const webhook = {
  settings: [
    setting('url', 'url'),
    setting('secret', 'string', { secret: true, required: false, generated: true }),
  ],
};
const fixedBytes = (size: number): Uint8Array => new Uint8Array(size).fill(1);

const problems = (input: unknown, previous?: Record<string, string | number | boolean>) => {
  const result = validateSettings(channel, input, previous, fixedBytes);
  return E.isLeft(result) ? result.left : [];
};
const values = (input: unknown, previous?: Record<string, string | number | boolean>) => {
  const result = validateSettings(channel, input, previous, fixedBytes);
  if (E.isLeft(result)) expect.fail(JSON.stringify(result.left));
  return result.right.values;
};

describe('validateSettings (settings a channel declares drive the checks)', () => {
  it('takes good values, trims text and applies defaults', () => {
    expect(
      values({
        serverUrl: 'https://ntfy.sh',
        topic: ' alerts ',
        priority: 4,
        phone: '+8613800138000',
      }),
    ).to.deep.equal({
      serverUrl: 'https://ntfy.sh',
      topic: 'alerts',
      priority: 4,
      phone: '+8613800138000',
      markdown: false,
    });
  });
  it('names every problem at its JSON pointer: unknown, missing, wrong types', () => {
    expect(
      problems({
        serverUrl: 'ftp://x',
        colour: 'red',
        token: 5,
        address: 'not-an-address',
        phone: '0123',
        markdown: 'yes',
        priority: 1.5,
      }),
    ).to.deep.equal([
      { path: '/settings/colour', message: 'is not a setting of this channel' },
      { path: '/settings/serverUrl', message: 'must be an absolute http(s) URL' },
      { path: '/settings/topic', message: 'is required' },
      { path: '/settings/token', message: 'must be text' },
      { path: '/settings/address', message: 'must be an email address' },
      { path: '/settings/phone', message: 'must be an E.164 phone number (+ and 8-15 digits)' },
      { path: '/settings/markdown', message: 'must be true or false' },
      { path: '/settings/priority', message: 'must be an integer' },
    ]);
  });
  it('refuses blank, overlong and ill-formed text, and settings that are not an object', () => {
    expect(problems({ serverUrl: 'https://x.test', topic: '   ' })).to.deep.equal([
      { path: '/settings/topic', message: 'must not be empty' },
    ]);
    expect(problems({ serverUrl: 'https://x.test', topic: 'a'.repeat(2049) })[0]?.message).to.match(
      /at most 2048/,
    );
    expect(problems({ serverUrl: 'https://x.test', topic: 'a\uD800' })[0]?.message).to.match(
      /well-formed/,
    );
    expect(problems(['x'])).to.deep.equal([
      { path: '/settings', message: 'must be an object of setting values' },
    ]);
  });
  it('refuses a string that does not match its declared pattern, the whole trimmed value', () => {
    const topics = { settings: [setting('topic', 'string', { pattern: '[A-Za-z0-9_\\-]{1,64}' })] };
    const check = (topic: string) => validateSettings(topics, { topic });
    expect(check(' alerts-1_x ')).to.deep.equal(E.right({ values: { topic: 'alerts-1_x' } }));
    for (const topic of ['alerts/1', 'a'.repeat(65), 'ok and not ok', 'émoji']) {
      expect(check(topic), topic).to.deep.equal(
        E.left([
          { path: '/settings/topic', message: 'must match the pattern [A-Za-z0-9_\\-]{1,64}' },
        ]),
      );
    }
  });

  it('keeps a stored value for a setting left out, and a secret sent back masked', () => {
    const stored = { serverUrl: 'https://ntfy.sh', topic: 'alerts', token: 'tk_secret' };
    expect(values({ topic: 'other', token: MASKED_SECRET }, stored)).to.deep.equal({
      ...stored,
      topic: 'other',
      markdown: false,
    });
    expect(values({ token: 'tk_new' }, stored)).to.deep.include({ token: 'tk_new' });
  });
  it('refuses a secret sent as "********" when no value is stored, naming the field', () => {
    const refusal = {
      path: '/settings/token',
      message: 'is "********", which keeps a stored secret, but none is stored: enter the value',
    };
    expect(
      problems({ serverUrl: 'https://ntfy.sh', topic: 'a', token: MASKED_SECRET }),
    ).to.deep.equal([refusal]);
    expect(
      problems({ token: MASKED_SECRET }, { serverUrl: 'https://ntfy.sh', topic: 'a' }),
    ).to.deep.equal([refusal]);
  });
  it('makes a generated secret for a new device, keeps it on a later save, and refuses one typed in', () => {
    const made = validateSettings(
      webhook,
      { url: 'https://hooks.example.test' },
      undefined,
      fixedBytes,
    );
    if (E.isLeft(made)) expect.fail('refused');
    const secret = `whsec_${Buffer.from(fixedBytes(32)).toString('base64')}`;
    expect(made.right.generated).to.deep.equal({ name: 'secret', value: secret });
    expect(made.right.values).to.deep.equal({ url: 'https://hooks.example.test', secret });
    const saved = validateSettings(
      webhook,
      { url: 'https://other.example.test' },
      made.right.values,
    );
    if (E.isLeft(saved)) expect.fail('refused');
    expect(saved.right).to.deep.equal({ values: { url: 'https://other.example.test', secret } });
    expect(
      validateSettings(
        webhook,
        { url: 'https://x.test', secret: 'whsec_mine' },
        undefined,
        fixedBytes,
      ),
    ).to.deep.equal(
      E.left([{ path: '/settings/secret', message: 'is made by Tidings and cannot be set' }]),
    );
  });
});
