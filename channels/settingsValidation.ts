import * as E from 'fp-ts/lib/Either.js';
import type { Channel, ChannelSetting, SettingValue, SettingValues } from './channel.js';
import { settingPattern } from './declaration.js';
import { newWebhookSecret } from './webhook/webhookSecret.js';

/** One thing wrong with a device's settings, at a JSON pointer such as `/settings/topic`. */
export interface SettingProblem {
  readonly path: string;
  readonly message: string;
}

/** Settings that passed: every value to store, and the generated secret made for a new device. */
export interface ValidSettings {
  readonly values: SettingValues;
  /** The value Tidings made for the channel's generated setting; shown once to the person. */
  readonly generated?: { readonly name: string; readonly value: string };
}

/** What a secret setting reads as wherever it is shown; sent back, it means "keep it". */
export const MASKED_SECRET = '********';

const UNREADABLE = 'can no longer be read; enter it again';
const NOTHING_TO_KEEP =
  'is "********", which keeps a stored secret, but none is stored: enter the value';

/** The longest text setting, in UTF-16 code units (`String.length`), after trimming. */
export const MAX_SETTING_TEXT = 2048;
/** A `phone` setting: E.164, `+` and 8–15 digits, the first not 0. */
export const PHONE_PATTERN = /^\+[1-9][0-9]{7,14}$/;
/** The longest `email` setting. */
export const MAX_EMAIL = 254;
/**
 * An `email` setting: one @, no spaces or angle brackets, a dotted domain. Enough to refuse
 * typos, not RFC 5322.
 */
export const EMAIL_PATTERN =
  /^[^\s@<>()[\],;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** The message for a value of the wrong kind, or undefined for one that fits `setting`. */
const problemOf = (setting: ChannelSetting, value: unknown): string | undefined => {
  switch (setting.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'string':
    case 'url':
    case 'email':
    case 'phone': {
      if (typeof value !== 'string') return 'must be text';
      if (value.trim() === '') return 'must not be empty';
      if (value.length > MAX_SETTING_TEXT) return `must be at most ${MAX_SETTING_TEXT} characters`;
      if (!value.isWellFormed()) return 'must be well-formed Unicode text';
      return textProblemOf(setting, value.trim());
    }
    default: {
      const _exhaustive: never = setting.type;
      return _exhaustive;
    }
  }
};

const textProblemOf = (setting: ChannelSetting, value: string): string | undefined => {
  const type = setting.type;
  switch (type) {
    case 'string':
      return setting.pattern === undefined || settingPattern(setting.pattern).test(value)
        ? undefined
        : `must match the pattern ${setting.pattern}`;
    case 'url': {
      if (!URL.canParse(value)) return 'must be an absolute http(s) URL';
      const { protocol } = new URL(value);
      return protocol === 'http:' || protocol === 'https:'
        ? undefined
        : 'must be an absolute http(s) URL';
    }
    case 'email':
      return EMAIL_PATTERN.test(value) && value.length <= MAX_EMAIL
        ? undefined
        : 'must be an email address';
    case 'phone':
      return PHONE_PATTERN.test(value)
        ? undefined
        : 'must be an E.164 phone number (+ and 8-15 digits)';
    case 'boolean':
    case 'integer':
      return undefined;
    default: {
      const _exhaustive: never = type;
      return _exhaustive;
    }
  }
};

/** Text values are stored trimmed; other values as they came. */
const normalized = (setting: ChannelSetting, value: SettingValue): SettingValue =>
  typeof value === 'string' && setting.type !== 'boolean' && setting.type !== 'integer'
    ? value.trim()
    : value;

const isRecord = (input: unknown): input is Readonly<Record<string, unknown>> =>
  typeof input === 'object' && input !== null && !Array.isArray(input);

/**
 * Checks a device's settings against what its channel declares (docs/plugins.md): no names it
 * does not declare, the required ones present, each value of its declared type (`string`: not
 * blank, at most 2,048 characters, well-formed, matching its `pattern` if it declares one; `url`:
 * absolute http or https; `email`; `phone`:
 * E.164; `boolean`; `integer`: a safe integer), defaults for optional ones left out, and the
 * generated setting never typed in but made here for a new device.
 *
 * `previous` are the values a device holds when it is saved again (PATCH): a setting left out
 * keeps its value, and so does a secret sent back as {@link MASKED_SECRET}; the mask for a secret
 * with no stored value (a new device's) is refused, never stored. `randomBytes` makes a
 * generated setting's value; a channel that declares one needs it for a new device.
 *
 * `unreadable` names the secret settings the device holds but that can no longer be opened (the
 * data folder's key changed), so `previous` lacks them: each must be given again, or the save is
 * refused naming it (never quietly dropped); a generated one is made anew and returned as
 * `generated`, to be shown once.
 *
 * Every problem is reported, each at its JSON pointer (`/settings/<name>`), none thrown.
 */
export const validateSettings = (
  channel: Pick<Channel, 'settings'>,
  input: unknown,
  previous?: SettingValues,
  randomBytes?: (size: number) => Uint8Array,
  unreadable: ReadonlySet<string> = new Set(),
): E.Either<readonly SettingProblem[], ValidSettings> => {
  if (!isRecord(input)) {
    return E.left([{ path: '/settings', message: 'must be an object of setting values' }]);
  }
  const problems: SettingProblem[] = [];
  const declared = new Map(channel.settings.map((setting) => [setting.name, setting]));
  for (const name of Object.keys(input)) {
    const setting = declared.get(name);
    if (setting === undefined)
      problems.push({ path: `/settings/${name}`, message: 'is not a setting of this channel' });
    else if (setting.generated === true && !(setting.secret && input[name] === MASKED_SECRET)) {
      problems.push({ path: `/settings/${name}`, message: 'is made by Tidings and cannot be set' });
    }
  }
  const values: Record<string, SettingValue> = {};
  let generated: ValidSettings['generated'];
  for (const setting of channel.settings) {
    const path = `/settings/${setting.name}`;
    const given = input[setting.name];
    const kept = previous?.[setting.name];
    if (setting.generated === true) {
      if (kept !== undefined) values[setting.name] = kept;
      else {
        if (randomBytes === undefined) throw new Error('a generated setting needs randomBytes');
        const value = newWebhookSecret(randomBytes);
        values[setting.name] = value;
        generated = { name: setting.name, value };
      }
      continue;
    }
    const masked = setting.secret && given === MASKED_SECRET;
    if ((masked || given === undefined) && kept === undefined && unreadable.has(setting.name)) {
      problems.push({ path, message: UNREADABLE });
      continue;
    }
    if (masked && kept === undefined) {
      // Stored as is, the mask would become the secret: the person meant "keep", and there is
      // nothing to keep.
      problems.push({ path, message: NOTHING_TO_KEEP });
      continue;
    }
    const value = given === undefined || masked ? (kept ?? setting.default) : given;
    if (value === undefined) {
      if (setting.required) problems.push({ path, message: 'is required' });
      continue;
    }
    const problem = problemOf(setting, value);
    if (problem !== undefined) problems.push({ path, message: problem });
    else values[setting.name] = normalized(setting, value as SettingValue);
  }
  if (problems.length > 0) return E.left(problems);
  return E.right(generated === undefined ? { values } : { values, generated });
};
