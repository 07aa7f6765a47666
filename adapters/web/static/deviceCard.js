// @ts-check
// One device in the list: its name, kind and state, and its Test, Edit and Remove actions. The
// edit form is drawn from the channel's declared settings, like the add form.
import { announce, api, confirmAction, el, reason, t, timeEl, tx } from './common.js';
import { deviceFields, explain, labelOf } from './settingsForm.js';
import { followTestPush } from './testFollow.js';

/**
 * @typedef {import('./settingsForm.js').ChannelInfo} ChannelInfo
 * @typedef {{ deviceId: string, kind: string, name: string,
 *   settings: Record<string, string | number | boolean>, broken: string | null,
 *   createdAt: string }} Device
 * @typedef {{ replace: (device: Device) => void, remove: (deviceId: string) => void,
 *   refresh: (deviceId: string, note: Note) => Promise<void> }} ListHooks
 * @typedef {{ outcome: string, text: string }} Note
 */

/** What the API answers in place of a secret setting. */
const HIDDEN = '********';

const pathOf = (/** @type {Device} */ device) =>
  `/v1/me/devices/${encodeURIComponent(device.deviceId)}`;

/** The saved settings people may see: secrets only as "kept secret", generated ones not at all. */
const summaryOf = (
  /** @type {Device} */ device,
  /** @type {ChannelInfo | undefined} */ channel,
) => {
  const declared = channel?.settings ?? [];
  const rows = declared
    .filter((setting) => setting.generated !== true && device.settings[setting.name] !== undefined)
    .map((setting) => {
      const value = device.settings[setting.name];
      const shown =
        setting.secret || value === HIDDEN
          ? t('device.keptSecret')
          : typeof value === 'boolean'
            ? value
              ? t('device.yes')
              : t('device.no')
            : String(value);
      return [
        el('dt', {}, labelOf(setting.name)),
        el('dd', { class: setting.secret ? 'secret' : 'mono' }, shown),
      ];
    });
  return rows.length === 0 ? null : el('dl', { class: 'device-settings' }, rows);
};

/** The state line: healthy, or broken with the channel's reason and how to resume. */
const stateOf = (/** @type {Device} */ device) =>
  device.broken === null
    ? el('span', { class: 'pill ok' }, t('device.healthy'))
    : el('span', { class: 'pill bad' }, t('device.broken'));

/**
 * The card of one device.
 *
 * @param {Device} device
 * @param {ChannelInfo | undefined} channel undefined when the server no longer has the kind
 * @param {ListHooks} hooks
 * @param {Note} [note] what the card's last test said, when it is redrawn after one
 * @returns {HTMLElement}
 */
export const deviceCard = (device, channel, hooks, note) => {
  const id = device.deviceId.replace(/[^A-Za-z0-9_-]/g, '_');
  const titleId = `device-${id}-name`;
  const result = el(
    'p',
    { class: 'result', role: 'status', 'aria-live': 'polite', 'data-outcome': note?.outcome },
    note?.text,
  );

  const testButton = /** @type {HTMLButtonElement} */ (
    el(
      'button',
      {
        type: 'button',
        class: 'small',
        'aria-label': t('device.testName', { device: device.name }),
        disabled: channel === undefined,
        onclick: async () => {
          testButton.disabled = true;
          delete result.dataset['outcome'];
          result.textContent = t('device.sending');
          try {
            const sent = await api('POST', `${pathOf(device)}/test`);
            result.textContent = t('device.testSent');
            const end = await followTestPush(sent.messageId, device.deviceId, (text) => {
              result.textContent = text;
            });
            result.textContent = end.text;
            result.dataset['outcome'] = end.outcome;
            // A refusal may have marked the device broken: show its state as the server has it.
            if (end.outcome === 'failed') await hooks.refresh(device.deviceId, end);
          } catch (failure) {
            result.textContent = reason(failure);
            result.dataset['outcome'] = 'error';
          } finally {
            testButton.disabled = false;
          }
        },
      },
      t('device.test'),
    )
  );

  /** @type {HTMLFormElement | undefined} */
  let editForm;
  const editButton = /** @type {HTMLButtonElement} */ (
    el(
      'button',
      {
        type: 'button',
        class: 'small',
        'aria-label': t('device.editName', { device: device.name }),
        'aria-expanded': 'false',
        disabled: channel === undefined,
        onclick: () => {
          if (channel === undefined) return;
          if (editForm !== undefined) {
            closeEdit();
            return;
          }
          editForm = editFormOf(device, channel, id, {
            saved: (updated) => {
              hooks.replace(updated);
              announce(t('device.saved', { device: updated.name }));
            },
            cancel: () => {
              closeEdit();
              editButton.focus();
            },
          });
          card.append(editForm);
          card.classList.add('editing');
          editButton.setAttribute('aria-expanded', 'true');
          editForm.querySelector('input')?.focus();
        },
      },
      t('device.edit'),
    )
  );
  const closeEdit = () => {
    editForm?.remove();
    editForm = undefined;
    card.classList.remove('editing');
    editButton.setAttribute('aria-expanded', 'false');
  };

  const removeButton = el(
    'button',
    {
      type: 'button',
      class: 'small danger',
      'aria-label': t('device.removeName', { device: device.name }),
      onclick: async () => {
        const sure = await confirmAction(
          t('device.removeQuestion', { device: device.name }),
          t('device.removeText'),
          t('device.remove'),
        );
        if (!sure) return;
        try {
          await api('DELETE', pathOf(device));
          hooks.remove(device.deviceId);
          announce(t('device.removed', { device: device.name }));
        } catch (failure) {
          announce(reason(failure), true);
        }
      },
    },
    t('device.remove'),
  );

  const card = el(
    'li',
    {
      class: 'device',
      'data-device': device.deviceId,
      'data-kind': device.kind,
      'data-state': device.broken === null ? 'healthy' : 'broken',
      'aria-labelledby': titleId,
    },
    el('div', { class: 'device-head' }, el('h3', { id: titleId }, device.name), stateOf(device)),
    el(
      'p',
      { class: 'meta' },
      tx('device.kindAdded', {
        kind: channel?.name ?? t('device.kindGone', { kind: device.kind }),
        time: timeEl(device.createdAt),
      }),
    ),
    device.broken === null
      ? null
      : el(
          'div',
          { class: 'broken-reason' },
          el('p', {}, el('strong', {}, t('device.notReaching')), ' ', device.broken),
          el('p', { class: 'broken-hint' }, t('device.brokenHint')),
        ),
    summaryOf(device, channel),
    el('div', { class: 'actions device-actions' }, testButton, editButton, removeButton),
    result,
  );
  return card;
};

/**
 * The edit form of a device. Saving sends the name and the settings that were filled in (a blank
 * secret is left out, so the server keeps it); saving also clears a broken state.
 *
 * @param {Device} device
 * @param {ChannelInfo} channel
 * @param {string} id
 * @param {{ saved: (device: Device) => void, cancel: () => void }} done
 * @returns {HTMLFormElement}
 */
const editFormOf = (device, channel, id, done) => {
  const fields = deviceFields(channel, { prefix: `edit-${id}`, device });
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  const form = /** @type {HTMLFormElement} */ (
    el(
      'form',
      {
        class: 'edit-form',
        'aria-label': t('device.editName', { device: device.name }),
        onsubmit: async (/** @type {SubmitEvent} */ event) => {
          event.preventDefault();
          if (!form.reportValidity()) return;
          fields.clearProblems();
          error.hidden = true;
          const { name, settings } = fields.read();
          try {
            const updated = await api(
              'PATCH',
              `/v1/me/devices/${encodeURIComponent(device.deviceId)}`,
              {
                ...(name === undefined ? {} : { name }),
                settings,
              },
            );
            done.saved(updated);
          } catch (failure) {
            error.textContent = explain(failure, fields);
            error.hidden = error.textContent === '';
          }
        },
      },
      fields.node,
      error,
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'submit', class: 'primary' }, t('common.save')),
        el('button', { type: 'button', onclick: done.cancel }, t('common.cancel')),
      ),
    )
  );
  return form;
};
