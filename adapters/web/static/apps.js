// @ts-check
// "My apps": every authorized app with its level, mute, block and unbind. Each control sends
// its change at once (PATCH /v1/me/apps/:id), so it applies to the app's very next message.
import { announce, api, confirmAction, el, formatTime, reason, t, tx } from './common.js';

/**
 * @typedef {{ bindingId: string, appId: string, appName: string, openid: string,
 *   level: 'strong' | 'weak' | 'none', mutedUntil: string | null, blocked: boolean,
 *   authorizedAt: string }} Binding
 */

/** "Until I unmute": a mute that only the person ends. */
const FOREVER = '9999-12-31T23:59:59.000Z';

const list = /** @type {HTMLUListElement} */ (document.getElementById('apps-list'));
const empty = /** @type {HTMLElement} */ (document.getElementById('apps-empty'));
const loading = /** @type {HTMLElement} */ (document.getElementById('apps-loading'));

const levels = /** @type {const} */ ([
  ['strong', t('apps.strong'), t('apps.strongHint')],
  ['weak', t('apps.weak'), t('apps.weakHint')],
  ['none', t('apps.none'), t('apps.noneHint')],
]);

const isMuted = (/** @type {Binding} */ binding) =>
  binding.mutedUntil !== null && Date.parse(binding.mutedUntil) > Date.now();

const muteText = (/** @type {Binding} */ binding) =>
  !isMuted(binding)
    ? t('apps.notMuted')
    : binding.mutedUntil !== null && binding.mutedUntil.startsWith('9999')
      ? t('apps.mutedForever')
      : t('apps.mutedUntil', { time: formatTime(binding.mutedUntil ?? '') });

/**
 * Sends one change; on success the card is redrawn from the answer, on failure the old state
 * comes back and the reason is announced.
 *
 * @param {Binding} binding
 * @param {Partial<Pick<Binding, 'level' | 'mutedUntil' | 'blocked'>>} change
 * @param {string} done
 */
const patch = async (binding, change, done) => {
  try {
    const updated = await api(
      'PATCH',
      `/v1/me/apps/${encodeURIComponent(binding.bindingId)}`,
      change,
    );
    replace(binding.bindingId, updated);
    announce(done);
  } catch (failure) {
    replace(binding.bindingId, binding);
    announce(reason(failure), true);
  }
};

const replace = (/** @type {string} */ bindingId, /** @type {Binding} */ binding) => {
  const old = list.querySelector(`li[data-binding="${CSS.escape(bindingId)}"]`);
  if (old === null) return;
  const focusedName =
    document.activeElement instanceof HTMLElement && old.contains(document.activeElement)
      ? document.activeElement.getAttribute('data-focus')
      : null;
  const card = cardOf(binding);
  old.replaceWith(card);
  if (focusedName !== null) {
    const again = card.querySelector(`[data-focus="${CSS.escape(focusedName)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
};

const cardOf = (/** @type {Binding} */ binding) => {
  const id = binding.bindingId.replace(/[^A-Za-z0-9_-]/g, '_');
  const muteSelect = el(
    'select',
    {
      id: `mute-${id}`,
      'data-focus': 'mute',
      onchange: (/** @type {Event} */ event) => {
        const value = /** @type {HTMLSelectElement} */ (event.target).value;
        if (value === 'keep') return;
        const mutedUntil =
          value === 'off'
            ? null
            : value === 'forever'
              ? FOREVER
              : new Date(Date.now() + Number(value) * 3600_000).toISOString();
        void patch(
          binding,
          { mutedUntil },
          mutedUntil === null
            ? t('apps.unmuted', { app: binding.appName })
            : t('apps.muted', { app: binding.appName }),
        );
      },
    },
    el('option', { value: 'off', selected: !isMuted(binding) }, t('apps.optionNotMuted')),
    isMuted(binding) && !(binding.mutedUntil ?? '').startsWith('9999')
      ? el(
          'option',
          { value: 'keep', selected: true },
          t('apps.optionUntil', { time: formatTime(binding.mutedUntil ?? '') }),
        )
      : null,
    el('option', { value: '1' }, t('apps.option1h')),
    el('option', { value: '8' }, t('apps.option8h')),
    el(
      'option',
      {
        value: 'forever',
        selected: isMuted(binding) && (binding.mutedUntil ?? '').startsWith('9999'),
      },
      t('apps.optionForever'),
    ),
  );
  return el(
    'li',
    {
      'data-binding': binding.bindingId,
      'data-app': binding.appId,
      'aria-labelledby': `name-${id}`,
    },
    el('h2', { id: `name-${id}` }, binding.appName),
    el(
      'p',
      { class: 'meta' },
      tx('apps.allowedAt', {
        time: formatTime(binding.authorizedAt),
        openid: el('span', { class: 'mono' }, binding.openid),
      }),
      binding.blocked ? el('span', { class: 'pill bad' }, t('apps.blocked')) : null,
    ),
    el(
      'fieldset',
      {},
      el('legend', {}, t('apps.level')),
      el(
        'div',
        { class: 'levels-row' },
        levels.map(([value, label, hint]) =>
          el(
            'label',
            { class: 'choice' },
            el('input', {
              type: 'radio',
              name: `level-${id}`,
              value,
              checked: binding.level === value,
              'data-focus': `level-${value}`,
              onchange: () =>
                patch(
                  binding,
                  { level: value },
                  t('apps.levelChanged', { app: binding.appName, level: label.toLowerCase() }),
                ),
            }),
            el('span', {}, el('strong', {}, label), ` — ${hint}`),
          ),
        ),
      ),
    ),
    el(
      'div',
      { class: 'row' },
      el('label', { for: `mute-${id}` }, t('apps.mutePushes')),
      muteSelect,
    ),
    el('p', { class: 'meta mute-state' }, muteText(binding)),
    el(
      'div',
      { class: 'row' },
      el(
        'label',
        { class: 'choice' },
        el('input', {
          type: 'checkbox',
          checked: binding.blocked,
          'data-focus': 'block',
          onchange: (/** @type {Event} */ event) => {
            const blocked = /** @type {HTMLInputElement} */ (event.target).checked;
            void patch(
              binding,
              { blocked },
              t(blocked ? 'apps.nowBlocked' : 'apps.nowUnblocked', { app: binding.appName }),
            );
          },
        }),
        el('span', {}, t('apps.blockLabel')),
      ),
    ),
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        {
          type: 'button',
          class: 'danger',
          'data-focus': 'unbind',
          onclick: async () => {
            const sure = await confirmAction(
              t('apps.unbindQuestion', { app: binding.appName }),
              t('apps.unbindText', { app: binding.appName }),
              t('apps.unbind'),
            );
            if (!sure) return;
            try {
              await api('DELETE', `/v1/me/apps/${encodeURIComponent(binding.bindingId)}`);
              list.querySelector(`li[data-binding="${CSS.escape(binding.bindingId)}"]`)?.remove();
              empty.hidden = list.children.length > 0;
              announce(t('apps.unbound', { app: binding.appName }));
              document.getElementById('main')?.focus();
            } catch (failure) {
              announce(reason(failure), true);
            }
          },
        },
        t('apps.unbindApp', { app: binding.appName }),
      ),
    ),
  );
};

const load = async () => {
  try {
    const answer = await api('GET', '/v1/me/apps');
    /** @type {Binding[]} */
    const bindings = answer.items;
    list.replaceChildren(...bindings.map(cardOf));
    empty.hidden = bindings.length > 0;
    loading.hidden = true;
  } catch (failure) {
    loading.textContent = reason(failure);
  }
};

void load();
