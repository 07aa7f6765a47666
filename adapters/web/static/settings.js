// @ts-check
// Settings: fills the form from GET /v1/me/preferences (and the devices the digest can go to),
// and saves it whole with PUT. A new language shows at once: the page is loaded again.
import { announce, api, ApiError, el, reason, showError, t } from './common.js';

/**
 * @typedef {{ locale: string | null, timeZone: string | null,
 *   quietHours: { start: string, end: string, allowTimeSensitive: boolean } | null,
 *   digest: { at: string, deviceId: string } | null }} Preferences
 */

const form = /** @type {HTMLFormElement} */ (document.getElementById('settings-form'));
const loading = /** @type {HTMLElement} */ (document.getElementById('settings-loading'));
const localeSelect = /** @type {HTMLSelectElement} */ (document.getElementById('settings-locale'));
const zoneSelect = /** @type {HTMLSelectElement} */ (document.getElementById('settings-zone'));
const browserZone = /** @type {HTMLOptionElement} */ (
  document.getElementById('settings-zone-browser')
);
const quietOn = /** @type {HTMLInputElement} */ (document.getElementById('quiet-on'));
const quietStart = /** @type {HTMLInputElement} */ (document.getElementById('quiet-start'));
const quietEnd = /** @type {HTMLInputElement} */ (document.getElementById('quiet-end'));
const quietUrgent = /** @type {HTMLInputElement} */ (document.getElementById('quiet-urgent'));
const digestOn = /** @type {HTMLInputElement} */ (document.getElementById('digest-on'));
const digestAt = /** @type {HTMLInputElement} */ (document.getElementById('digest-at'));
const digestDevice = /** @type {HTMLSelectElement} */ (document.getElementById('digest-device'));
const noDevice = /** @type {HTMLElement} */ (document.getElementById('digest-no-device'));
const error = document.getElementById('settings-error');
const result = /** @type {HTMLElement} */ (document.getElementById('settings-result'));

/** The fields under a switch are usable only while it is on. */
const sync = () => {
  for (const input of [quietStart, quietEnd, quietUrgent]) input.disabled = !quietOn.checked;
  const devices = digestDevice.options.length;
  digestOn.disabled = devices === 0;
  noDevice.hidden = devices > 0;
  for (const input of [digestAt, digestDevice]) input.disabled = !digestOn.checked;
};

/** The form's values as the API takes them. */
const read = () => ({
  locale: localeSelect.value === '' ? null : localeSelect.value,
  timeZone: zoneSelect.value === '' ? null : zoneSelect.value,
  quietHours: quietOn.checked
    ? {
        start: quietStart.value,
        end: quietEnd.value,
        allowTimeSensitive: quietUrgent.checked,
      }
    : null,
  digest:
    digestOn.checked && digestDevice.value !== ''
      ? { at: digestAt.value, deviceId: digestDevice.value }
      : null,
});

/** The form field a problem's path names, by its label on the page (in the page's language). */
const FIELDS = {
  '/locale': 'settings-locale',
  '/timeZone': 'settings-zone',
  '/quietHours/start': 'quiet-start',
  '/quietHours/end': 'quiet-end',
  '/digest/at': 'digest-at',
  '/digest/deviceId': 'digest-device',
};

const fieldOf = (/** @type {string} */ path) => {
  const id = /** @type {Record<string, string>} */ (FIELDS)[path];
  const label = id === undefined ? null : document.querySelector(`label[for="${id}"]`);
  return label?.textContent?.trim() ?? path;
};

/** @type {Preferences | undefined} what the page was drawn with */
let loaded;

/** Shows saved preferences in the form. */
const show = (/** @type {Preferences} */ saved) => {
  localeSelect.value = saved.locale ?? '';
  // A zone the list does not name (an alias such as US/Eastern, saved through the API) is kept.
  const zone = saved.timeZone;
  if (zone !== null && ![...zoneSelect.options].some((option) => option.value === zone)) {
    const option = document.createElement('option');
    option.value = zone;
    option.textContent = zone;
    zoneSelect.append(option);
  }
  zoneSelect.value = zone ?? '';
  quietOn.checked = saved.quietHours !== null;
  if (saved.quietHours !== null) {
    quietStart.value = saved.quietHours.start;
    quietEnd.value = saved.quietHours.end;
    quietUrgent.checked = saved.quietHours.allowTimeSensitive;
  }
  digestOn.checked = saved.digest !== null;
  if (saved.digest !== null) {
    digestAt.value = saved.digest.at;
    digestDevice.value = saved.digest.deviceId;
  }
  sync();
};

const load = async () => {
  try {
    const [saved, devices] = await Promise.all([
      api('GET', '/v1/me/preferences'),
      api('GET', '/v1/me/devices'),
    ]);
    browserZone.textContent = t('settings.timeZoneBrowser', {
      zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    digestDevice.replaceChildren(
      ...devices.items.map((/** @type {{ deviceId: string, name: string }} */ device) =>
        el('option', { value: device.deviceId }, device.name),
      ),
    );
    loaded = saved;
    show(saved);
    form.hidden = false;
    loading.hidden = true;
  } catch (failure) {
    loading.textContent = reason(failure);
  }
};

quietOn.addEventListener('change', sync);
digestOn.addEventListener('change', sync);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!form.reportValidity()) return;
  showError(error, '');
  result.textContent = '';
  const wanted = read();
  try {
    /** @type {Preferences} */
    const saved = await api('PUT', '/v1/me/preferences', wanted);
    show(saved);
    const zone = saved.timeZone ?? undefined;
    const now = new Intl.DateTimeFormat(document.documentElement.lang, {
      timeStyle: 'short',
      ...(zone === undefined ? {} : { timeZone: zone }),
    }).format(new Date());
    result.textContent = t('settings.savedTime', { time: now });
    announce(t('settings.saved'));
    // Another language or time zone shows on the whole page, so draw it again.
    if (saved.locale !== loaded?.locale || saved.timeZone !== loaded?.timeZone) location.reload();
    loaded = saved;
  } catch (failure) {
    const problems = failure instanceof ApiError ? (failure.problem?.errors ?? []) : [];
    showError(
      error,
      problems.length > 0
        ? problems
            .map((problem) => t('settings.invalidField', { field: fieldOf(problem.path) }))
            .join(' ')
        : reason(failure),
    );
  }
});

void load();
