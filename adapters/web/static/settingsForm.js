// @ts-check
// The fields of a device form, drawn from the settings a channel declares (GET /v1/channels).
// Nothing here names a channel: a plugin's kind gets its form from its declaration alone.
import { ApiError, el, reason, t } from './common.js';

/**
 * @typedef {'string' | 'url' | 'email' | 'phone' | 'boolean' | 'integer'} SettingType
 * @typedef {{ name: string, description: string, type: SettingType, secret: boolean,
 *   required: boolean, default?: string | number | boolean, generated?: boolean,
 *   pattern?: string }} Setting
 * @typedef {{ kind: string, name: string, settings: Setting[] }} ChannelInfo
 * @typedef {{ path: string, message: string }} FieldProblem
 */

/** Words that read as initials when a setting's name is turned into a label. */
const INITIALS = new Set(['url', 'id', 'api', 'smtp', 'http', 'https', 'ip', 'pin']);

/**
 * A label from a setting's name: `serverUrl` → "Server URL", `access_token` → "Access token".
 * The declaration's description becomes the help text under it.
 */
export const labelOf = (/** @type {string} */ name) => {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase())
    .map((word) => (INITIALS.has(word) ? word.toUpperCase() : word));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/** E.164 as the server checks it: `+`, then 8 to 15 digits, the first not 0. */
const E164 = '\\+[1-9][0-9]{7,14}';

/** Ids of elements built for one form, safe in an id attribute whatever the setting is called. */
const idOf = (/** @type {string} */ prefix, /** @type {string} */ name) =>
  `${prefix}-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/**
 * The `<input>` attributes for a setting: its type, constraints and hints to the browser.
 *
 * @param {Setting} setting
 * @param {{ editing: boolean }} mode
 * @returns {Record<string, unknown>}
 */
const inputAttributes = (setting, { editing }) => {
  // A saved secret is never sent back, so editing shows it blank: blank keeps it.
  const keepsSecret = editing && setting.secret;
  const common = {
    name: setting.name,
    required: setting.required && !keepsSecret,
    spellcheck: 'false',
    autocapitalize: 'none',
    // The browser anchors a pattern itself; the server checks the same one (trimmed).
    ...(setting.type === 'string' && setting.pattern !== undefined
      ? { pattern: setting.pattern, title: setting.description }
      : {}),
  };
  const placeholder = keepsSecret
    ? t('form.leaveBlank')
    : setting.default === undefined
      ? undefined
      : String(setting.default);
  if (setting.secret) {
    return { ...common, type: 'password', autocomplete: 'off', placeholder };
  }
  switch (setting.type) {
    case 'url':
      return { ...common, type: 'url', inputmode: 'url', autocomplete: 'url', placeholder };
    case 'email':
      return { ...common, type: 'email', autocomplete: 'email', placeholder };
    case 'phone':
      return {
        ...common,
        type: 'tel',
        autocomplete: 'tel',
        pattern: E164,
        title: t('form.phoneTitle'),
        placeholder: placeholder ?? '+447700900123',
      };
    case 'integer':
      return { ...common, type: 'number', step: '1', inputmode: 'numeric', placeholder };
    case 'boolean':
      return { ...common, type: 'checkbox', required: false };
    case 'string':
      return { ...common, type: 'text', autocomplete: 'off', placeholder };
    default: {
      // A type this page does not know yet (a newer server): still a plain text field.
      return { ...common, type: 'text', autocomplete: 'off', placeholder };
    }
  }
};

/** The help text under a field: the description, and what a blank field means. */
const helpOf = (/** @type {Setting} */ setting, /** @type {boolean} */ editing) => {
  // Descriptions are written by channel authors, often without a full stop.
  const description = setting.description.trim();
  const parts = [
    description === '' || /[.!?。]$/.test(description) ? description : `${description}.`,
  ];
  if (setting.type === 'phone') parts.push(t('form.phoneHelp'));
  if (editing && setting.secret) parts.push(t('form.secretHelp'));
  else if (setting.default !== undefined && setting.type !== 'boolean')
    parts.push(t('form.defaultHelp', { value: String(setting.default) }));
  return parts.filter((part) => part.trim() !== '').join(' ');
};

/**
 * One device form's fields and what it needs to read them and show the server's verdict on them.
 *
 * @typedef {{
 *   node: HTMLElement,
 *   read: () => { name?: string, settings: Record<string, string | number | boolean> },
 *   showProblems: (problems: FieldProblem[]) => FieldProblem[],
 *   clearProblems: () => void,
 * }} DeviceFields
 */

/**
 * The name field and a field for every setting the channel declares that people fill in
 * (generated settings are made by Tidings and never shown).
 *
 * - Adding: required settings are required, defaults show as placeholders (a checkbox starts as
 *   its default), blank optional fields are left out so the server applies the default.
 * - Editing (`device` given): the saved values are filled in, secrets blank with "Leave blank to
 *   keep"; a blank secret is left out of the change, so the server keeps it.
 *
 * @param {ChannelInfo} channel
 * @param {{ prefix: string, device?: { name: string, settings: Record<string, unknown> } }} options
 * @returns {DeviceFields}
 */
export const deviceFields = (channel, { prefix, device }) => {
  const editing = device !== undefined;
  /** @type {Map<string, { input: HTMLInputElement, error: HTMLElement, hintId: string | undefined }>} */
  const byPath = new Map();

  const errorFor = (/** @type {string} */ id) =>
    el('p', { id: `${id}-error`, class: 'error field-error', hidden: true });

  const nameId = idOf(prefix, 'device-name');
  const nameInput = /** @type {HTMLInputElement} */ (
    el('input', {
      id: nameId,
      name: 'name',
      type: 'text',
      maxlength: 100,
      autocomplete: 'off',
      placeholder: channel.name,
      'aria-describedby': `${nameId}-hint`,
    })
  );
  if (editing) nameInput.value = device.name;
  const nameError = errorFor(nameId);
  byPath.set('/name', { input: nameInput, error: nameError, hintId: `${nameId}-hint` });

  const fields = channel.settings
    .filter((setting) => setting.generated !== true)
    .map((setting) => {
      const id = idOf(prefix, `s-${setting.name}`);
      const help = helpOf(setting, editing);
      const hintId = help === '' ? undefined : `${id}-hint`;
      const input = /** @type {HTMLInputElement} */ (
        el('input', { id, ...inputAttributes(setting, { editing }), 'aria-describedby': hintId })
      );
      const saved = device?.settings[setting.name];
      if (setting.type === 'boolean') {
        input.checked = editing ? saved === true : setting.default === true;
      } else if (!(editing && setting.secret) && saved !== undefined && saved !== null) {
        input.value = String(saved);
      }
      const error = errorFor(id);
      byPath.set(`/settings/${setting.name}`, { input, error, hintId });
      const hint = hintId === undefined ? null : el('p', { id: hintId, class: 'hint' }, help);
      const optional =
        setting.required || setting.type === 'boolean'
          ? null
          : el('span', { class: 'optional' }, t('common.optional'));
      return setting.type === 'boolean'
        ? el(
            'div',
            { class: 'field', 'data-setting': setting.name },
            el('label', { class: 'choice', for: id }, input, el('span', {}, labelOf(setting.name))),
            hint,
            error,
          )
        : el(
            'div',
            { class: 'field', 'data-setting': setting.name },
            el('label', { for: id }, labelOf(setting.name), optional),
            input,
            hint,
            error,
          );
    });

  const node = el(
    'div',
    { class: 'device-fields' },
    el(
      'div',
      { class: 'field' },
      el(
        'label',
        { for: nameId },
        t('form.name'),
        el('span', { class: 'optional' }, t('common.optional')),
      ),
      nameInput,
      el('p', { id: `${nameId}-hint`, class: 'hint' }, t('form.nameHint')),
      nameError,
    ),
    fields,
  );

  const read = () => {
    /** @type {Record<string, string | number | boolean>} */
    const settings = {};
    for (const setting of channel.settings) {
      const found = byPath.get(`/settings/${setting.name}`);
      if (found === undefined) continue;
      const { input } = found;
      if (setting.type === 'boolean') {
        settings[setting.name] = input.checked;
        continue;
      }
      // Secrets are taken as typed: a token's spaces are the person's business.
      const value = setting.secret ? input.value : input.value.trim();
      if (value === '') continue;
      settings[setting.name] = setting.type === 'integer' ? Number(value) : value;
    }
    const name = nameInput.value.trim();
    return name === '' ? { settings } : { name, settings };
  };

  const clearProblems = () => {
    for (const { input, error, hintId } of byPath.values()) {
      error.textContent = '';
      error.hidden = true;
      input.removeAttribute('aria-invalid');
      if (hintId === undefined) input.removeAttribute('aria-describedby');
      else input.setAttribute('aria-describedby', hintId);
    }
  };

  /** Puts each problem beside the field its `path` names; returns those no field here has. */
  const showProblems = (/** @type {FieldProblem[]} */ problems) => {
    clearProblems();
    /** @type {FieldProblem[]} */
    const unplaced = [];
    /** @type {HTMLInputElement | undefined} */
    let first;
    for (const problem of problems) {
      const found = byPath.get(problem.path);
      if (found === undefined) {
        unplaced.push(problem);
        continue;
      }
      found.error.textContent =
        found.error.textContent === ''
          ? problem.message
          : `${found.error.textContent} ${problem.message}`;
      found.error.hidden = false;
      found.input.setAttribute('aria-invalid', 'true');
      found.input.setAttribute(
        'aria-describedby',
        [found.hintId, found.error.id].filter((id) => id !== undefined).join(' '),
      );
      first ??= found.input;
    }
    first?.focus();
    return unplaced;
  };

  return { node, read, showProblems, clearProblems };
};

/**
 * What a form says above its buttons when the server refused it: each field problem is shown
 * beside its field, so this says only what no field shows (or the problem's detail when none).
 *
 * @param {unknown} failure
 * @param {DeviceFields} fields
 * @returns {string}
 */
export const explain = (failure, fields) => {
  const problems = failure instanceof ApiError ? (failure.problem?.errors ?? []) : [];
  const unplaced = fields.showProblems(problems);
  if (problems.length > 0 && unplaced.length === 0) return t('form.checkMarked');
  return [
    reason(failure),
    ...unplaced.map((problem) => `${problem.path}: ${problem.message}`),
  ].join(' ');
};
