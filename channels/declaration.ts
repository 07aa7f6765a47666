import type { ChannelSettingType, SettingValue } from './channel.js';

/**
 * The declaration check every channel passes before it is registered: built in, loaded as a
 * plugin (`composition/channelPlugins.ts`) or run through the conformance kit. A plugin is plain
 * JavaScript from outside the project, so nothing about its shape can be taken for granted; each
 * problem found is one sentence naming the field, so the one line that stops the start says what
 * to fix.
 */

/** A channel's kind: it appears in URLs, metrics labels and events. */
export const CHANNEL_KIND_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** A setting's name: a key of a JSON object and of a form, the same in every language. */
export const SETTING_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Names a setting may not have: the properties every object inherits (`constructor`, `toString`,
 * `valueOf`, `hasOwnProperty`, …). Settings are looked up as `settings[name]`, which for these
 * answers an inherited function when the device has no value, not "missing".
 */
export const RESERVED_SETTING_NAMES: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(Object.prototype),
);

/** The setting types a channel may declare, in the order the docs list them. */
export const CHANNEL_SETTING_TYPES: readonly ChannelSettingType[] = [
  'string',
  'url',
  'email',
  'phone',
  'boolean',
  'integer',
];

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isSettingType = (value: unknown): value is ChannelSettingType =>
  typeof value === 'string' && (CHANNEL_SETTING_TYPES as readonly string[]).includes(value);

/** Whether `value` may be the default of a setting of `type`. */
const fitsType = (type: ChannelSettingType, value: unknown): value is SettingValue => {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'string':
    case 'url':
    case 'email':
    case 'phone':
      return typeof value === 'string';
    default: {
      const _exhaustive: never = type;
      return _exhaustive;
    }
  }
};

/**
 * The regular expression a setting's `pattern` stands for: the whole value, with the `u` flag
 * (the devices page's form compiles it the same way, anchored, with the stricter `v` flag).
 */
export const settingPattern = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, 'u');

/** The problems of a setting's `pattern`: a string, on a `string` setting, that compiles. */
const patternProblems = (setting: Readonly<Record<string, unknown>>, label: string): string[] => {
  const pattern = setting['pattern'];
  if (pattern === undefined) return [];
  if (typeof pattern !== 'string' || pattern === '') {
    return [`${label}.pattern must be a non-empty string (a regular expression) when given`];
  }
  if (setting['type'] !== 'string') return [`${label}.pattern is for a setting of type string`];
  let compiled: RegExp;
  try {
    // On its own first, as a browser does with the form's `pattern`: otherwise `a)|(b` would
    // compile once wrapped and match anything that starts with `a` or ends with `b`.
    new RegExp(pattern, 'u');
    compiled = settingPattern(pattern);
  } catch (error) {
    return [
      `${label}.pattern is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`,
    ];
  }
  try {
    // The form's `pattern` is compiled with the `v` flag; one that fails there is dropped by the
    // browser without a word, so the page would not check what the server refuses.
    new RegExp(`^(?:${pattern})$`, 'v');
  } catch (error) {
    return [
      `${label}.pattern is not valid with the v flag, as browsers compile a form's pattern (escape - and other class syntax characters inside [...]): ${error instanceof Error ? error.message : String(error)}`,
    ];
  }
  const fallback = setting['default'];
  return typeof fallback === 'string' && !compiled.test(fallback)
    ? [`${label}.default does not match its pattern`]
    : [];
};

/** The problems of one entry of `settings`, each naming it as `settings[i]` (and its name). */
const settingProblems = (setting: unknown, index: number): string[] => {
  const at = `settings[${index}]`;
  if (!isRecord(setting)) return [`${at} must be an object`];
  const name = setting['name'];
  const label =
    typeof name === 'string' && SETTING_NAME_PATTERN.test(name) ? `${at} ("${name}")` : at;
  const problems: string[] = [];
  if (typeof name !== 'string' || !SETTING_NAME_PATTERN.test(name)) {
    problems.push(
      `${at}.name must be a letter then up to 63 letters, digits or underscores, got ${describe(name)}`,
    );
  } else if (RESERVED_SETTING_NAMES.has(name)) {
    problems.push(`${at}.name must not be "${name}", which every JavaScript object has`);
  }
  if (typeof setting['description'] !== 'string') {
    problems.push(`${label}.description must be a string`);
  }
  const type = setting['type'];
  if (!isSettingType(type)) {
    problems.push(
      `${label}.type must be one of ${CHANNEL_SETTING_TYPES.join(', ')}, got ${describe(type)}`,
    );
  }
  for (const flag of ['secret', 'required'] as const) {
    if (typeof setting[flag] !== 'boolean') problems.push(`${label}.${flag} must be true or false`);
  }
  if ('default' in setting && setting['default'] !== undefined) {
    if (isSettingType(type) && !fitsType(type, setting['default'])) {
      problems.push(`${label}.default must be a value of type ${type}`);
    }
    // A required setting is never missing, so its default would never apply: a sign the author
    // meant it optional.
    if (setting['required'] === true) {
      problems.push(`${label}.default is for an optional setting: it is required`);
    }
  }
  problems.push(...patternProblems(setting, label));
  const generated = setting['generated'];
  if (generated !== undefined && typeof generated !== 'boolean') {
    problems.push(`${label}.generated must be true or false when given`);
  }
  if (generated === true) {
    if (setting['secret'] !== true) problems.push(`${label}.generated requires secret: true`);
    if (setting['required'] !== false) problems.push(`${label}.generated requires required: false`);
  }
  return problems;
};

/** A short, safe rendering of a wrong value for a message (never a whole object). */
const describe = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
};

/**
 * The problems of a channel declaration, empty when it is well-formed (PLUGINS.md "The
 * module"): `kind` 1–32 lowercase letters, digits or dashes starting with a letter; `name` a
 * non-empty string; `settings` an array of settings with unique names of the form
 * {@link SETTING_NAME_PATTERN} and not in {@link RESERVED_SETTING_NAMES}, a string
 * `description`, a known `type`, boolean `secret` and `required`, an optional `default` of the
 * setting's type (on an optional setting only), a `pattern` on `string` settings only that
 * compiles (and that the default matches), and at most one `generated` setting, which is
 * secret and not required; `render` and `send` functions, and `renderRecall` a function when
 * present.
 *
 * It checks shape only: what `render` and `send` do is the conformance kit's business.
 */
export const checkChannelDeclaration = (value: unknown): string[] => {
  if (!isRecord(value)) return [`a channel must be an object, got ${describe(value)}`];
  const problems: string[] = [];
  const kind = value['kind'];
  if (typeof kind !== 'string' || !CHANNEL_KIND_PATTERN.test(kind)) {
    problems.push(
      `kind must be 1-32 lowercase letters, digits or dashes starting with a letter, got ${describe(kind)}`,
    );
  }
  const name = value['name'];
  if (typeof name !== 'string' || name.trim() === '') {
    problems.push(`name must be a non-empty string, got ${describe(name)}`);
  }
  const settings = value['settings'];
  if (!Array.isArray(settings)) {
    problems.push(`settings must be an array, got ${describe(settings)}`);
  } else {
    const seen = new Set<string>();
    let generated = 0;
    settings.forEach((setting: unknown, index) => {
      problems.push(...settingProblems(setting, index));
      if (!isRecord(setting)) return;
      const settingName = setting['name'];
      if (typeof settingName === 'string') {
        if (seen.has(settingName)) {
          problems.push(`settings[${index}].name "${settingName}" is declared twice`);
        }
        seen.add(settingName);
      }
      if (setting['generated'] === true) generated += 1;
    });
    if (generated > 1)
      problems.push(`settings may have at most one generated setting, got ${generated}`);
  }
  for (const method of ['render', 'send'] as const) {
    if (typeof value[method] !== 'function') {
      problems.push(`${method} must be a function, got ${describe(value[method])}`);
    }
  }
  if (value['renderRecall'] !== undefined && typeof value['renderRecall'] !== 'function') {
    problems.push(
      `renderRecall must be a function when given, got ${describe(value['renderRecall'])}`,
    );
  }
  return problems;
};
