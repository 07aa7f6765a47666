// @ts-check
// "My devices": the Bark server and device key, and a test push through the real pipeline,
// followed until its device delivery is done (or failed) so the person knows it worked.
import { announce, api, confirmAction, reason, showError } from './common.js';

const current = /** @type {HTMLElement} */ (document.getElementById('bark-current'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('bark-form'));
const error = document.getElementById('bark-error');
const remove = /** @type {HTMLButtonElement} */ (document.getElementById('bark-remove'));
const testButton = /** @type {HTMLButtonElement} */ (document.getElementById('test-push'));
const result = /** @type {HTMLElement} */ (document.getElementById('test-result'));

/** @type {string | undefined} */
let serverUrl;
/** Why Bark refused the saved device key, when it has. @type {string | undefined} */
let broken;

const show = () => {
  current.textContent =
    serverUrl === undefined
      ? 'No device yet: messages reach only your inbox.'
      : broken !== undefined
        ? `Bark no longer accepts this device key (${broken}), so messages reach only your inbox. Save the device again, with its current key, to get pushes back.`
        : `Pushing to ${serverUrl} (the device key is kept secret).`;
  remove.hidden = serverUrl === undefined;
  testButton.disabled = serverUrl === undefined;
  if (serverUrl === undefined && result.textContent === '') {
    result.textContent = 'Save a device first.';
  }
};

const load = async () => {
  try {
    const me = await api('GET', '/v1/me');
    serverUrl = me.devices?.bark?.serverUrl;
    broken = me.devices?.bark?.broken;
    const input = /** @type {HTMLInputElement} */ (document.getElementById('bark-server'));
    if (serverUrl !== undefined && input.value === '') input.value = serverUrl;
    show();
  } catch (failure) {
    current.textContent = reason(failure);
  }
};

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!form.reportValidity()) return;
  const data = new FormData(form);
  showError(error, '');
  try {
    const saved = await api('PUT', '/v1/me/devices/bark', {
      serverUrl: String(data.get('serverUrl') ?? '').trim(),
      deviceKey: String(data.get('deviceKey') ?? '').trim(),
    });
    serverUrl = saved.serverUrl;
    broken = undefined;
    /** @type {HTMLInputElement} */ (document.getElementById('bark-key')).value = '';
    if (result.textContent === 'Save a device first.') result.textContent = '';
    show();
    announce('Device saved');
  } catch (failure) {
    showError(error, reason(failure));
  }
});

remove.addEventListener('click', async () => {
  const sure = await confirmAction(
    'Remove this device?',
    'Strong messages then reach only your inbox until you add a device again.',
    'Remove',
  );
  if (!sure) return;
  try {
    await api('DELETE', '/v1/me/devices/bark');
    serverUrl = undefined;
    broken = undefined;
    show();
    announce('Device removed');
  } catch (failure) {
    announce(reason(failure), true);
  }
});

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Follows a test push for at most about 30 s and says where it went. */
const follow = async (/** @type {string} */ messageId) => {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const status = await api('GET', `/v1/me/test-push/${encodeURIComponent(messageId)}`);
    const bark = status.deliveries.find(
      (/** @type {{ channel: string }} */ d) => d.channel === 'bark',
    );
    if (bark?.status === 'delivered') {
      result.textContent = 'Delivered to your Bark device. Check your phone.';
      result.dataset['outcome'] = 'delivered';
      return;
    }
    if (bark?.status === 'failed' || bark?.status === 'abandoned') {
      result.textContent = `Bark refused it: ${bark.lastError ?? 'no reason given'}.`;
      result.dataset['outcome'] = 'failed';
      return;
    }
    if (['suppressed', 'rejected', 'held'].includes(status.status)) {
      result.textContent = `Not pushed: the message is ${status.status}.`;
      result.dataset['outcome'] = status.status;
      return;
    }
    if (bark === undefined && status.deliveries.length > 0) {
      result.textContent =
        'It reached your inbox but was not pushed (the Tidings app is not set to strong, is muted, or over its push budget).';
      result.dataset['outcome'] = 'inbox';
      return;
    }
    result.textContent =
      bark === undefined ? 'On its way…' : `Trying Bark (attempt ${bark.attempts})…`;
    await sleep(1000);
  }
  result.textContent = 'Still trying; the inbox shows it once delivered.';
};

testButton.addEventListener('click', async () => {
  testButton.disabled = true;
  delete result.dataset['outcome'];
  result.textContent = 'Sending…';
  try {
    const sent = await api('POST', '/v1/me/test-push');
    if (sent.status === 'suppressed') {
      result.textContent = sent.blocked
        ? 'Not sent: you blocked the Tidings app in My apps.'
        : 'Not sent: the Tidings app is set to none in My apps.';
      result.dataset['outcome'] = 'suppressed';
    } else {
      await follow(sent.messageId);
    }
  } catch (failure) {
    result.textContent = reason(failure);
    result.dataset['outcome'] = 'error';
  } finally {
    testButton.disabled = serverUrl === undefined;
  }
});

void load();
