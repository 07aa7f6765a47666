// @ts-check
// The operator's page: held messages (approve / reject), open complaints (uphold with a
// severity / dismiss), apps by reputation (reinstate). The admin token lives in this tab's
// sessionStorage only and is sent as a bearer token.
import { announce, api, ApiError, el, reason, showError, t, timeEl, tx } from './common.js';

const STORAGE_KEY = 'tidings-admin-token';
/** The most held messages the server lists at once (moderationRoutes.ts). */
const HELD_LIMIT = 500;
/** Open complaints asked for at once (the route allows up to 1,000). */
const COMPLAINTS_LIMIT = 1000;

const tokenForm = /** @type {HTMLFormElement} */ (document.getElementById('token-form'));
const tokenError = document.getElementById('token-error');
const panels = /** @type {HTMLElement} */ (document.getElementById('operator-panels'));
const heldList = /** @type {HTMLUListElement} */ (document.getElementById('held-list'));
const complaintList = /** @type {HTMLUListElement} */ (document.getElementById('complaint-list'));
const repList = /** @type {HTMLUListElement} */ (document.getElementById('rep-list'));

/** @type {Map<string, string>} */
const appNames = new Map();

const token = () => sessionStorage.getItem(STORAGE_KEY) ?? '';

/** An operator call; a refused token sends the operator back to the sign-in form. */
const call = async (
  /** @type {string} */ method,
  /** @type {string} */ path,
  /** @type {unknown} */ body,
) => {
  try {
    return await api(method, path, body, { token: token() });
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) signOut(t('operator.tokenRefused'));
    throw failure;
  }
};

const signOut = (/** @type {string} */ why = '') => {
  sessionStorage.removeItem(STORAGE_KEY);
  panels.hidden = true;
  tokenForm.hidden = false;
  showError(tokenError, why);
};

const appName = (/** @type {string} */ appId) => appNames.get(appId) ?? appId;

/** Runs an action from a card's button, then reloads every list. */
const act = async (
  /** @type {HTMLButtonElement} */ button,
  /** @type {() => Promise<unknown>} */ action,
  /** @type {string} */ done,
) => {
  button.disabled = true;
  try {
    await action();
  } catch (failure) {
    announce(reason(failure), true);
    button.disabled = false;
    return;
  }
  announce(done);
  // Done: the card goes even if reloading the lists fails (its button would only be refused).
  button.closest('li')?.remove();
  try {
    await loadAll();
  } catch (failure) {
    announce(t('operator.reloadFailed', { reason: reason(failure) }), true);
  }
};

const field = (
  /** @type {string} */ id,
  /** @type {string} */ label,
  /** @type {HTMLElement} */ control,
) => el('div', { class: 'field' }, el('label', { for: id }, label), control);

const heldCard = (/** @type {any} */ item) => {
  const id = `reject-${item.messageId}`;
  const reasonInput = /** @type {HTMLInputElement} */ (el('input', { id, maxlength: 1000 }));
  const title = item.title ?? t('operator.noTitle');
  return el(
    'li',
    { 'data-message': item.messageId },
    el('h3', {}, title),
    el(
      'p',
      { class: 'meta' },
      tx('operator.heldBy', {
        app: appName(item.appId),
        policy: item.policy ?? t('operator.policy'),
        reason: item.reason ?? '',
        time: timeEl(item.createdAt),
      }),
    ),
    el('p', { class: 'quote' }, item.body),
    field(id, t('operator.rejectReason'), reasonInput),
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        {
          type: 'button',
          class: 'primary',
          'aria-label': t('operator.approveName', { title }),
          onclick: (/** @type {Event} */ e) =>
            act(
              /** @type {HTMLButtonElement} */ (e.currentTarget),
              () =>
                call('POST', `/v1/admin/moderation/${encodeURIComponent(item.messageId)}/approve`),
              t('operator.approved'),
            ),
        },
        t('operator.approve'),
      ),
      el(
        'button',
        {
          type: 'button',
          class: 'danger',
          'aria-label': t('operator.rejectName', { title }),
          onclick: (/** @type {Event} */ e) =>
            act(
              /** @type {HTMLButtonElement} */ (e.currentTarget),
              () =>
                call(
                  'POST',
                  `/v1/admin/moderation/${encodeURIComponent(item.messageId)}/reject`,
                  reasonInput.value.trim() === '' ? {} : { reason: reasonInput.value.trim() },
                ),
              t('operator.rejected'),
            ),
        },
        t('operator.reject'),
      ),
    ),
  );
};

/** @type {Record<string, string>} */
const categoryKeys = {
  spam: 'operator.categorySpam',
  fraud: 'operator.categoryFraud',
  abuse: 'operator.categoryAbuse',
  other: 'operator.categoryOther',
};

const complaintCard = (/** @type {any} */ item) => {
  const severityId = `severity-${item.complaintId}`;
  const noteId = `note-${item.complaintId}`;
  const severity = /** @type {HTMLSelectElement} */ (
    el(
      'select',
      { id: severityId },
      el('option', { value: 'minor' }, t('operator.minor')),
      el('option', { value: 'major' }, t('operator.major')),
      el('option', { value: 'severe' }, t('operator.severe')),
    )
  );
  const note = /** @type {HTMLInputElement} */ (el('input', { id: noteId, maxlength: 1000 }));
  const withNote = () => (note.value.trim() === '' ? {} : { note: note.value.trim() });
  const name = appName(item.appId);
  return el(
    'li',
    { 'data-complaint': item.complaintId, 'data-app': item.appId },
    el(
      'h3',
      {},
      t('operator.complaintAbout', {
        category: t(categoryKeys[item.category] ?? 'operator.categoryOther'),
        app: name,
      }),
    ),
    el('p', { class: 'quote' }, item.reason),
    el(
      'p',
      { class: 'meta' },
      tx('operator.filed', { time: timeEl(item.filedAt), messageId: item.messageId }),
    ),
    el(
      'div',
      { class: 'row' },
      field(severityId, t('operator.severity'), severity),
      field(noteId, t('operator.note'), note),
    ),
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        {
          type: 'button',
          class: 'danger',
          'aria-label': t('operator.upholdName', { app: name }),
          onclick: (/** @type {Event} */ e) =>
            act(
              /** @type {HTMLButtonElement} */ (e.currentTarget),
              () =>
                call(
                  'POST',
                  `/v1/admin/complaints/${encodeURIComponent(item.complaintId)}/uphold`,
                  { severity: severity.value, ...withNote() },
                ),
              t('operator.upheld', { app: name }),
            ),
        },
        t('operator.uphold'),
      ),
      el(
        'button',
        {
          type: 'button',
          'aria-label': t('operator.dismissName', { app: name }),
          onclick: (/** @type {Event} */ e) =>
            act(
              /** @type {HTMLButtonElement} */ (e.currentTarget),
              () =>
                call(
                  'POST',
                  `/v1/admin/complaints/${encodeURIComponent(item.complaintId)}/dismiss`,
                  withNote(),
                ),
              t('operator.dismissed'),
            ),
        },
        t('operator.dismiss'),
      ),
    ),
  );
};

const statusPill = (/** @type {string} */ status) =>
  el(
    'span',
    { class: `pill ${status === 'active' ? 'ok' : status === 'suspended' ? 'warn' : 'bad'}` },
    t(`operator.status.${status}`),
  );

const appCard = (/** @type {any} */ app) => {
  const noteId = `reinstate-${app.appId}`;
  const note = /** @type {HTMLInputElement} */ (el('input', { id: noteId, maxlength: 1000 }));
  return el(
    'li',
    { 'data-app': app.appId },
    el('h3', {}, app.name, ' ', statusPill(app.status)),
    el(
      'p',
      { class: 'meta' },
      el('span', { class: 'score' }, t('operator.score', { score: app.score })),
      app.suspendedUntil === undefined
        ? ''
        : tx('operator.suspendedUntil', { time: timeEl(app.suspendedUntil) }),
      ` · ${app.appId}`,
    ),
    app.status === 'active'
      ? null
      : [
          field(noteId, t('operator.note'), note),
          el(
            'div',
            { class: 'actions' },
            el(
              'button',
              {
                type: 'button',
                class: 'primary',
                'aria-label': t('operator.reinstateName', { app: app.name }),
                onclick: (/** @type {Event} */ e) =>
                  act(
                    /** @type {HTMLButtonElement} */ (e.currentTarget),
                    () =>
                      call(
                        'POST',
                        `/v1/admin/apps/${encodeURIComponent(app.appId)}/reinstate`,
                        note.value.trim() === '' ? {} : { note: note.value.trim() },
                      ),
                    t('operator.reinstated', { app: app.name }),
                  ),
              },
              t('operator.reinstate'),
            ),
          ),
        ],
  );
};

const fill = (
  /** @type {HTMLElement} */ list,
  /** @type {string} */ emptyId,
  /** @type {string} */ countId,
  /** @type {HTMLElement[]} */ cards,
  /** the most the route answers */ limit = Number.POSITIVE_INFINITY,
) => {
  list.replaceChildren(...cards);
  const empty = document.getElementById(emptyId);
  if (empty) empty.hidden = cards.length > 0;
  const count = countId === '' ? null : document.getElementById(countId);
  // A full list may hold only the first of more: say so rather than a count that looks complete.
  if (count) count.textContent = cards.length >= limit ? `(${limit}+)` : `(${cards.length})`;
};

const loadAll = async () => {
  const [apps, held, complaints] = await Promise.all([
    call('GET', '/v1/admin/apps?sort=score'),
    call('GET', '/v1/admin/moderation/held'),
    call('GET', `/v1/admin/complaints?status=open&limit=${COMPLAINTS_LIMIT}`),
  ]);
  for (const app of apps.items) appNames.set(app.appId, app.name);
  fill(repList, 'rep-empty', '', apps.items.map(appCard));
  fill(heldList, 'held-empty', 'held-count', held.items.map(heldCard), HELD_LIMIT);
  fill(
    complaintList,
    'complaints-empty',
    'complaints-count',
    complaints.items.map(complaintCard),
    COMPLAINTS_LIMIT,
  );
};

const start = async () => {
  try {
    await loadAll();
    tokenForm.hidden = true;
    panels.hidden = false;
  } catch (failure) {
    if (!(failure instanceof ApiError && failure.status === 401))
      showError(tokenError, reason(failure));
  }
};

tokenForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (document.getElementById('admin-token'));
  if (!tokenForm.reportValidity()) return;
  sessionStorage.setItem(STORAGE_KEY, input.value.trim());
  input.value = '';
  showError(tokenError, '');
  await start();
  if (!panels.hidden) document.getElementById('held-title')?.scrollIntoView();
});

document.getElementById('operator-refresh')?.addEventListener('click', () => {
  loadAll().then(
    () => announce(t('operator.upToDate')),
    (failure) => announce(reason(failure), true),
  );
});
document.getElementById('operator-signout')?.addEventListener('click', () => signOut());

if (token() !== '') void start();
