// @ts-check
// "My devices": every device of the person, of any kind, and the form that adds one. Both the
// kinds and their forms come from GET /v1/channels, so this page names no channel.
import { announce, api, el, reason, t, tn } from './common.js';
import { deviceCard } from './deviceCard.js';
import { deviceFields, explain, labelOf } from './settingsForm.js';

/**
 * @typedef {import('./settingsForm.js').ChannelInfo} ChannelInfo
 * @typedef {import('./settingsForm.js').DeviceFields} DeviceFields
 * @typedef {import('./deviceCard.js').Device} Device
 */

const list = /** @type {HTMLUListElement} */ (document.getElementById('devices-list'));
const status = /** @type {HTMLElement} */ (document.getElementById('devices-status'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('add-form'));
const kindSelect = /** @type {HTMLSelectElement} */ (document.getElementById('add-kind'));
const fieldsHolder = /** @type {HTMLElement} */ (document.getElementById('add-fields'));
const addError = /** @type {HTMLElement} */ (document.getElementById('add-error'));
const secretBox = /** @type {HTMLElement} */ (document.getElementById('add-secret'));
const secretWhat = /** @type {HTMLElement} */ (document.getElementById('add-secret-what'));
const secretValue = /** @type {HTMLElement} */ (document.getElementById('add-secret-value'));
const secretCopy = /** @type {HTMLButtonElement} */ (document.getElementById('add-secret-copy'));

/** @type {Map<string, ChannelInfo>} */
const channels = new Map();
/** @type {Device[]} */
let devices = [];
/** @type {DeviceFields | undefined} */
let addFields;

const showStatus = () => {
  const broken = devices.filter((device) => device.broken !== null).length;
  status.textContent =
    devices.length === 0
      ? t('devices.none')
      : broken === 0
        ? tn('devices.healthy', devices.length)
        : tn('devices.broken', devices.length, { broken });
};

const hooks = {
  replace: (/** @type {Device} */ device) => {
    devices = devices.map((old) => (old.deviceId === device.deviceId ? device : old));
    const old = list.querySelector(`li[data-device="${CSS.escape(device.deviceId)}"]`);
    const card = deviceCard(device, channels.get(device.kind), hooks);
    if (old === null) list.append(card);
    else old.replaceWith(card);
    showStatus();
  },
  /** Reads the device again (a test may have marked it broken) and redraws it with `note`. */
  refresh: async (
    /** @type {string} */ deviceId,
    /** @type {import('./deviceCard.js').Note} */ note,
  ) => {
    const mine = await api('GET', '/v1/me/devices');
    devices = mine.items;
    const device = devices.find((found) => found.deviceId === deviceId);
    const old = list.querySelector(`li[data-device="${CSS.escape(deviceId)}"]`);
    if (device !== undefined && old !== null) {
      old.replaceWith(deviceCard(device, channels.get(device.kind), hooks, note));
    }
    showStatus();
  },
  remove: (/** @type {string} */ deviceId) => {
    devices = devices.filter((device) => device.deviceId !== deviceId);
    list.querySelector(`li[data-device="${CSS.escape(deviceId)}"]`)?.remove();
    showStatus();
    status.focus();
  },
};

const drawList = () => {
  list.replaceChildren(
    ...devices.map((device) => deviceCard(device, channels.get(device.kind), hooks)),
  );
  showStatus();
};

/** Draws the add form's fields for the chosen kind. */
const drawFields = () => {
  const channel = channels.get(kindSelect.value);
  addError.hidden = true;
  if (channel === undefined) {
    addFields = undefined;
    fieldsHolder.replaceChildren();
    return;
  }
  addFields = deviceFields(channel, { prefix: 'add' });
  fieldsHolder.replaceChildren(addFields.node);
};

const load = async () => {
  try {
    const [known, mine] = await Promise.all([
      api('GET', '/v1/channels'),
      api('GET', '/v1/me/devices'),
    ]);
    for (const channel of /** @type {ChannelInfo[]} */ (known.items)) {
      channels.set(channel.kind, channel);
    }
    kindSelect.replaceChildren(
      ...[...channels.values()].map((channel) =>
        el('option', { value: channel.kind }, channel.name),
      ),
    );
    devices = mine.items;
    drawList();
    drawFields();
  } catch (failure) {
    status.textContent = reason(failure);
  }
};

kindSelect.addEventListener('change', drawFields);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (addFields === undefined || !form.reportValidity()) return;
  const fields = addFields;
  fields.clearProblems();
  addError.hidden = true;
  const { name, settings } = fields.read();
  try {
    const created = await api('POST', '/v1/me/devices', {
      kind: kindSelect.value,
      ...(name === undefined ? {} : { name }),
      settings,
    });
    const { secret, ...device } = created;
    devices = [...devices, device];
    hooks.replace(device);
    drawFields();
    showSecret(device, secret);
    announce(t('devices.added', { device: device.name }));
  } catch (failure) {
    addError.textContent = explain(failure, fields);
    addError.hidden = false;
  }
});

/** Selects the secret's text, so a person without clipboard access can copy it by hand. */
const selectSecret = () => {
  const range = document.createRange();
  range.selectNodeContents(secretValue);
  window.getSelection()?.removeAllRanges();
  window.getSelection()?.addRange(range);
};

/**
 * Shows the value Tidings generated for the new device (a signing secret), which the
 * API gives only in the answer that created it; hides the box for a device without one.
 *
 * @param {Device} device
 * @param {unknown} secret
 */
const showSecret = (device, secret) => {
  secretBox.hidden = typeof secret !== 'string';
  if (typeof secret !== 'string') return;
  const generated = channels.get(device.kind)?.settings.find((setting) => setting.generated);
  secretWhat.textContent = t('devices.secretOf', {
    setting: labelOf(generated?.name ?? 'secret'),
    device: device.name,
  });
  secretValue.textContent = secret;
  secretBox.focus();
  selectSecret();
};

secretCopy.addEventListener('click', async () => {
  selectSecret();
  try {
    await navigator.clipboard.writeText(secretValue.textContent ?? '');
    announce(t('devices.secretCopied'));
  } catch {
    // No clipboard access (an older browser, or a page not served over HTTPS): it stays selected.
    announce(t('devices.secretSelected'), true);
  }
});

void load();
