// @ts-check
// The inbox: newest first, one entry per thread (a work order's steps as a timeline), unread
// marked, filter by app, mark read, archive, complain; polls for new messages every few seconds.
// Each message says where it was pushed, or why not (its `delivery`).
import {
  announce,
  api,
  ApiError,
  el,
  formatTime,
  pageLocale,
  reason,
  safeHref,
  showError,
  t,
  timeEl,
  tn,
  tx,
} from './common.js';

/**
 * @typedef {{ deviceId: string, kind: string, status: 'pending' | 'delivered' | 'failed' | 'abandoned',
 *   at?: string, name?: string }} DevicePush
 * @typedef {{ deviceId: string, kind: string, name: string }} BrokenDevice
 * @typedef {{ devices: DevicePush[], reason?: string, mutedUntil?: string, quietUntil?: string,
 *   quietOutcome?: 'merged' | 'dropped', brokenDevices?: BrokenDevice[] }} Delivery
 * @typedef {{ messageId: string, appId: string, appName: string, title: string | null,
 *   subtitle: string | null, body: string, url: string | null, thread: string | null,
 *   receivedAt: string, readAt: string | null, delivery?: Delivery }} Item
 * @typedef {{ key: string, appId: string, appName: string, thread: string | null, steps: Item[] }} Group
 */

const POLL_MS = 4000;
const PAGE = 100;

const list = /** @type {HTMLUListElement} */ (document.getElementById('inbox-list'));
const empty = /** @type {HTMLElement} */ (document.getElementById('inbox-empty'));
const loading = /** @type {HTMLElement} */ (document.getElementById('inbox-loading'));
const summary = /** @type {HTMLElement} */ (document.getElementById('inbox-summary'));
const filter = /** @type {HTMLSelectElement} */ (document.getElementById('app-filter'));
const older = /** @type {HTMLButtonElement} */ (document.getElementById('load-older'));
const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('complain-dialog'));
const complainForm = /** @type {HTMLFormElement} */ (document.getElementById('complain-form'));
const complainAbout = /** @type {HTMLElement} */ (document.getElementById('complain-about'));
const complainError = document.getElementById('complain-error');
/** The built-in app's id: its test pushes get no Complain button. */
const builtInAppId = list.dataset.builtInApp ?? '';

const state = {
  /** @type {Item[]} the first page, as last polled */
  first: [],
  /** @type {Item[]} pages loaded with "Load older" */
  extra: [],
  /** @type {string | null} */
  cursor: null,
  extraLoaded: false,
  appId: '',
  /** @type {Set<string>} entries the person opened */
  open: new Set(),
  /** @type {Map<string, string>} app names seen, for the filter */
  apps: new Map(),
  signature: '',
  /** @type {Set<string> | undefined} ids seen so far, to announce new ones */
  seen: undefined,
  busy: false,
  /** a refresh was asked for while one ran: it runs again when that one ends */
  again: false,
  /** bumped when the filter changes: answers to requests made before are dropped */
  generation: 0,
  /** @type {Item | undefined} the message a complaint is being written about */
  complaintTarget: undefined,
};

const query = (/** @type {string | null} */ cursor) => {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (state.appId !== '') params.set('appId', state.appId);
  if (cursor !== null) params.set('cursor', cursor);
  return `/v1/me/inbox?${params}`;
};

/** Whether `a` comes after `b` in the inbox's order (newest first, then by id, as the server). */
const isOlder = (/** @type {Item} */ a, /** @type {Item} */ b) =>
  a.receivedAt < b.receivedAt || (a.receivedAt === b.receivedAt && a.messageId < b.messageId);

/** Everything loaded, newest first, without duplicates. */
const items = () => {
  const ids = new Set(state.first.map((item) => item.messageId));
  return [...state.first, ...state.extra.filter((item) => !ids.has(item.messageId))];
};

/** Threads become one group per (app, thread); other messages are groups of one. */
const groupsOf = (/** @type {Item[]} */ all) => {
  /** @type {Map<string, Group>} */
  const groups = new Map();
  for (const item of all) {
    const key = item.thread === null ? `m:${item.messageId}` : `t:${item.appId}:${item.thread}`;
    const group = groups.get(key) ?? {
      key,
      appId: item.appId,
      appName: item.appName,
      thread: item.thread,
      steps: [],
    };
    group.steps.push(item);
    groups.set(key, group);
  }
  return [...groups.values()];
};

const names = new Intl.ListFormat(pageLocale, { style: 'long', type: 'conjunction' });

/** The devices' names as a list in the page's language ("iPhone and iPad"). */
const deviceNames = (/** @type {{ name?: string, kind: string }[]} */ devices) =>
  names.format([...new Set(devices.map((device) => device.name ?? device.kind))]);

const devicesLink = () => el('a', { href: '/devices' }, t('inbox.delivery.devicesLink'));

/** Why no push went out, in words (with a link where the person can fix it); null: it did. */
const whyNoPush = (/** @type {Delivery} */ delivery) => {
  switch (delivery.reason) {
    case 'weak':
      return tx('inbox.delivery.weak');
    case 'muted': {
      const until = delivery.mutedUntil;
      // A mute "until I unmute" is stored as the end of year 9999 (apps.js).
      return until === undefined || until.startsWith('9999')
        ? tx('inbox.delivery.muted')
        : tx('inbox.delivery.mutedUntil', { time: timeEl(until) });
    }
    case 'quiet_hours':
      if (delivery.quietOutcome === 'merged') return tx('inbox.delivery.quietMerged');
      if (delivery.quietOutcome === 'dropped') return tx('inbox.delivery.quietDropped');
      return delivery.quietUntil === undefined
        ? tx('inbox.delivery.quiet')
        : tx('inbox.delivery.quietUntil', { time: timeEl(delivery.quietUntil) });
    case 'push_budget':
      return tx('inbox.delivery.pushBudget');
    case 'no_device':
      return tx('inbox.delivery.noDevice', { link: devicesLink() });
    case 'device_broken': {
      const broken = delivery.brokenDevices ?? [];
      const [only] = broken;
      if (broken.length > 1) {
        return tx('inbox.delivery.brokenSeveral', {
          devices: deviceNames(broken),
          link: devicesLink(),
        });
      }
      return tx(only?.kind === 'bark' ? 'inbox.delivery.brokenBark' : 'inbox.delivery.broken', {
        device: only?.name ?? '',
        link: devicesLink(),
      });
    }
    default:
      return null;
  }
};

/** Where the pushes went, discreetly: pushed, on their way, retrying, or given up. */
const pushesDone = (/** @type {DevicePush[]} */ pushes) => {
  const having = (/** @type {(push: DevicePush) => boolean} */ test) => pushes.filter(test);
  const delivered = having((push) => push.status === 'delivered');
  const pending = having((push) => push.status === 'pending' && push.at === undefined);
  const retrying = having((push) => push.status === 'pending' && push.at !== undefined);
  const failed = having((push) => push.status === 'failed' || push.status === 'abandoned');
  return [
    delivered.length > 0 ? t('inbox.delivery.pushed', { devices: deviceNames(delivered) }) : '',
    pending.length > 0 ? t('inbox.delivery.pushing', { devices: deviceNames(pending) }) : '',
    ...retrying.map((push) =>
      t('inbox.delivery.retrying', {
        device: deviceNames([push]),
        time: formatTime(push.at ?? ''),
      }),
    ),
    failed.length > 0 ? t('inbox.delivery.failed', { devices: deviceNames(failed) }) : '',
  ]
    .filter((part) => part !== '')
    .join(' · ');
};

/** The line under a message saying where it was pushed or why not; null when there is nothing to say. */
const deliveryNote = (/** @type {Item} */ item, /** @type {string} */ tag) => {
  const { delivery } = item;
  if (delivery === undefined) return null;
  const why = whyNoPush(delivery);
  const words = why ?? pushesDone(delivery.devices);
  if (words.length === 0) return null;
  return el(tag, { class: 'meta delivery', 'data-reason': delivery.reason ?? undefined }, words);
};

const headline = (/** @type {Item} */ item) =>
  item.title !== null && item.title !== '' ? item.title : (item.body.split('\n')[0] ?? '');

const stepView = (/** @type {Item} */ item, /** @type {boolean} */ latest) => {
  const href = safeHref(item.url);
  return el(
    'li',
    { class: latest ? 'latest' : undefined },
    timeEl(item.receivedAt),
    item.title !== null && item.title !== '' ? el('p', { class: 'step-title' }, item.title) : null,
    item.subtitle !== null && item.subtitle !== ''
      ? el('p', { class: 'meta' }, item.subtitle)
      : null,
    el('p', { class: 'step-body' }, item.body),
    // The newest step's note is under the whole entry.
    latest ? null : deliveryNote(item, 'p'),
    href === undefined
      ? null
      : el('a', { href, rel: 'noopener noreferrer', target: '_blank' }, t('inbox.openLink')),
  );
};

const groupView = (/** @type {Group} */ group, /** @type {number} */ index) => {
  const latest = /** @type {Item} */ (group.steps[0]);
  const unread = group.steps.filter((step) => step.readAt === null);
  const thread = group.thread !== null;
  // By position: two keys may differ only in characters an id cannot hold.
  const titleId = `entry-title-${index}`;
  const details = el(
    'details',
    { 'data-focus': `${group.key}:open` },
    el(
      'summary',
      { 'data-focus': `${group.key}:summary` },
      el('span', { class: 'from' }, group.appName),
      el('span', { class: 'when' }, timeEl(latest.receivedAt)),
      el('h2', { class: 'title', id: titleId }, headline(latest)),
      latest.title !== null && latest.title !== ''
        ? el('span', { class: 'preview' }, latest.body)
        : null,
      el(
        'span',
        { class: 'badges' },
        unread.length > 0
          ? el(
              'span',
              { class: 'pill info unread-badge' },
              thread && group.steps.length > 1
                ? tn('inbox.unreadCount', unread.length)
                : t('inbox.unread'),
            )
          : null,
        thread
          ? el('span', { class: 'pill ok step-count' }, tn('inbox.steps', group.steps.length))
          : null,
      ),
    ),
    thread
      ? el(
          'ol',
          { class: 'timeline', 'aria-label': t('inbox.stepsOf', { title: headline(latest) }) },
          [...group.steps]
            .reverse()
            .map((step, index, all) => stepView(step, index === all.length - 1)),
        )
      : el(
          'div',
          { class: 'body' },
          latest.subtitle !== null && latest.subtitle !== ''
            ? el('p', { class: 'meta' }, latest.subtitle)
            : null,
          latest.title !== null && latest.title !== '' ? el('p', {}, latest.body) : null,
          (() => {
            const href = safeHref(latest.url);
            return href === undefined
              ? null
              : el(
                  'a',
                  { href, rel: 'noopener noreferrer', target: '_blank' },
                  t('inbox.openLink'),
                );
          })(),
        ),
  );
  const open = /** @type {HTMLDetailsElement} */ (details);
  open.open = state.open.has(group.key);
  details.addEventListener('toggle', () => {
    // Opening it again after a re-render (the `open` set above fires `toggle` too) is not the
    // person opening it: only a real opening marks it read.
    if (open.open && !state.open.has(group.key)) {
      state.open.add(group.key);
      void markRead(group);
    } else if (!open.open) {
      state.open.delete(group.key);
    }
  });
  const name = headline(latest);
  const note = deliveryNote(latest, 'span');
  return el(
    'li',
    {
      class: `entry${unread.length > 0 ? ' unread' : ''}`,
      'data-key': group.key,
      'data-thread': group.thread ?? undefined,
      'aria-labelledby': titleId,
    },
    details,
    note === null ? null : el('div', { class: 'body delivery-note' }, note),
    el(
      'div',
      { class: 'entry-actions' },
      unread.length > 0
        ? el(
            'button',
            {
              type: 'button',
              class: 'small',
              'data-focus': `${group.key}:read`,
              'aria-label': t('inbox.markReadName', { title: name }),
              onclick: () => markRead(group),
            },
            t('inbox.markRead'),
          )
        : null,
      el(
        'button',
        {
          type: 'button',
          class: 'small',
          'data-focus': `${group.key}:archive`,
          'aria-label': t(thread ? 'inbox.archiveThreadName' : 'inbox.archiveName', {
            title: name,
          }),
          onclick: () => archive(group),
        },
        t('inbox.archive'),
      ),
      // Test pushes come from the built-in app, which takes no complaints (docs/api.md).
      group.appId === builtInAppId
        ? null
        : el(
            'button',
            {
              type: 'button',
              class: 'small danger',
              'data-focus': `${group.key}:complain`,
              'aria-label': t('inbox.complainName', { title: name }),
              onclick: () => openComplaint(latest),
            },
            t('inbox.complain'),
          ),
    ),
  );
};

const render = () => {
  const all = items();
  for (const item of all) state.apps.set(item.appId, item.appName);
  renderFilter();
  const signature = JSON.stringify([
    state.appId,
    state.cursor,
    all.map((item) => [item.messageId, item.readAt !== null, item.delivery]),
  ]);
  loading.hidden = true;
  if (signature === state.signature) return;
  state.signature = signature;
  const focused = document.activeElement?.getAttribute('data-focus') ?? null;
  const groups = groupsOf(all);
  list.replaceChildren(...groups.map((group, index) => groupView(group, index)));
  empty.hidden = groups.length > 0;
  older.hidden = state.cursor === null;
  const unread = all.filter((item) => item.readAt === null).length;
  summary.textContent = all.length === 0 ? '' : tn('inbox.summary', groups.length, { unread });
  if (focused !== null) {
    const again = list.querySelector(`[data-focus="${CSS.escape(focused)}"]`);
    // The control is gone (read, complained about): keep the focus in the list, not on <body>.
    if (again instanceof HTMLElement) again.focus();
    else if (list.contains(document.activeElement) || document.activeElement === document.body)
      list.focus();
  }
};

const renderFilter = () => {
  const current = [...filter.options].map((option) => option.value).join('\n');
  const wanted = [
    '',
    ...[...state.apps.keys()].sort((a, b) =>
      (state.apps.get(a) ?? '').localeCompare(state.apps.get(b) ?? ''),
    ),
  ];
  if (current === wanted.join('\n')) return;
  filter.replaceChildren(
    ...wanted.map((appId) =>
      el(
        'option',
        { value: appId, selected: appId === state.appId },
        appId === '' ? t('inbox.allApps') : (state.apps.get(appId) ?? appId),
      ),
    ),
  );
};

/** Polls the first page and merges it with what was loaded before. */
const refresh = async () => {
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  const generation = state.generation;
  try {
    const page = await api('GET', query(null));
    if (generation !== state.generation) return;
    const previous = state.first;
    state.first = page.items;
    const newest = previous[0];
    if (
      state.extraLoaded &&
      newest !== undefined &&
      !page.items.some((item) => item.messageId === newest.messageId)
    ) {
      // More arrived than a page holds (or the newest left elsewhere): what lies between the
      // new first page and the older pages is unknown, so load the shown depth again.
      void reload();
    } else if (state.extraLoaded) {
      // New messages pushed some of the last first page below it: they now belong to the older
      // pages already loaded, not to nowhere.
      const last = page.items.at(-1);
      const shown = new Set([...page.items, ...state.extra].map((item) => item.messageId));
      const pushedDown = previous.filter(
        (item) => !shown.has(item.messageId) && last !== undefined && isOlder(item, last),
      );
      state.extra = [...pushedDown, ...state.extra];
    } else {
      state.cursor = page.nextCursor;
    }
    const ids = new Set(items().map((item) => item.messageId));
    if (state.seen !== undefined) {
      const fresh = [...ids].filter((id) => !state.seen?.has(id)).length;
      if (fresh > 0) announce(tn('inbox.newMessages', fresh));
    }
    state.seen = new Set([...(state.seen ?? []), ...ids]);
    render();
  } catch (failure) {
    if (generation !== state.generation) return;
    loading.hidden = false;
    loading.textContent = reason(failure);
  } finally {
    state.busy = false;
    if (state.again) {
      state.again = false;
      void refresh();
    }
  }
};

/**
 * Loads everything again down to the depth shown (when the tab comes back: older pages are not
 * polled, and a message there may have been recalled, archived or read elsewhere meanwhile).
 */
const reload = async () => {
  if (!state.extraLoaded) {
    await refresh();
    return;
  }
  const depth = items().length;
  const generation = state.generation;
  try {
    /** @type {Item[]} */
    const loaded = [];
    /** @type {string | null} */
    let cursor = null;
    do {
      const page = await api('GET', query(cursor));
      if (generation !== state.generation) return;
      loaded.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && loaded.length < depth);
    state.first = loaded.slice(0, PAGE);
    state.extra = loaded.slice(PAGE);
    state.cursor = cursor;
    for (const item of loaded) state.seen?.add(item.messageId);
    render();
  } catch (failure) {
    announce(reason(failure), true);
  }
};

const loadOlder = async () => {
  if (state.cursor === null) return;
  older.disabled = true;
  const generation = state.generation;
  try {
    const page = await api('GET', query(state.cursor));
    if (generation !== state.generation) return;
    state.extra = [...state.extra, ...page.items];
    state.cursor = page.nextCursor;
    state.extraLoaded = true;
    for (const item of page.items) state.seen?.add(item.messageId);
    render();
  } catch (failure) {
    announce(reason(failure), true);
  } finally {
    older.disabled = false;
  }
};

const update = (/** @type {(item: Item) => Item | undefined} */ change) => {
  const apply = (/** @type {Item[]} */ list) =>
    list.flatMap((item) => {
      const changed = change(item);
      return changed === undefined ? [] : [changed];
    });
  state.first = apply(state.first);
  state.extra = apply(state.extra);
  render();
};

const markRead = async (/** @type {Group} */ group) => {
  const unread = group.steps.filter((step) => step.readAt === null);
  if (unread.length === 0) return;
  try {
    await Promise.all(
      unread.map((step) => api('POST', `/v1/me/inbox/${encodeURIComponent(step.messageId)}/read`)),
    );
    const ids = new Set(unread.map((step) => step.messageId));
    const now = new Date().toISOString();
    update((item) => (ids.has(item.messageId) ? { ...item, readAt: item.readAt ?? now } : item));
  } catch (failure) {
    dropIfGone(failure, group);
    announce(reason(failure), true);
  }
};

/**
 * A 404 on one of the entry's messages means it left the inbox elsewhere (recalled by its app,
 * archived or complained about in another tab): take the entry off the page too.
 */
const dropIfGone = (/** @type {unknown} */ failure, /** @type {Group} */ group) => {
  if (!(failure instanceof ApiError) || failure.status !== 404) return;
  const ids = new Set(group.steps.map((step) => step.messageId));
  update((item) => (ids.has(item.messageId) ? undefined : item));
  void reload();
};

const archive = async (/** @type {Group} */ group) => {
  try {
    await Promise.all(
      group.steps.map((step) =>
        api('DELETE', `/v1/me/inbox/${encodeURIComponent(step.messageId)}`),
      ),
    );
    const ids = new Set(group.steps.map((step) => step.messageId));
    update((item) => (ids.has(item.messageId) ? undefined : item));
    announce(t('inbox.archived'));
    list.focus();
  } catch (failure) {
    dropIfGone(failure, group);
    announce(reason(failure), true);
  }
};

const openComplaint = (/** @type {Item} */ item) => {
  state.complaintTarget = item;
  complainAbout.textContent = t('inbox.complainAbout', {
    title: headline(item),
    app: item.appName,
  });
  complainForm.reset();
  showError(complainError, '');
  dialog.showModal();
};

complainForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const target = state.complaintTarget;
  if (target === undefined) return;
  if (!complainForm.reportValidity()) return;
  const data = new FormData(complainForm);
  try {
    await api('POST', `/v1/me/inbox/${encodeURIComponent(target.messageId)}/complaints`, {
      category: String(data.get('category') ?? 'other'),
      reason: String(data.get('reason') ?? '').trim(),
    });
    dialog.close();
    update((item) => (item.messageId === target.messageId ? undefined : item));
    announce(t('inbox.complaintSent'));
  } catch (failure) {
    showError(complainError, reason(failure));
  }
});

document.getElementById('complain-cancel')?.addEventListener('click', () => dialog.close());

filter.addEventListener('change', () => {
  state.appId = filter.value;
  state.generation += 1;
  state.first = [];
  state.extra = [];
  state.extraLoaded = false;
  state.cursor = null;
  state.signature = '';
  // Messages of this app not loaded before are not new.
  state.seen = undefined;
  void refresh();
});

older.addEventListener('click', loadOlder);
list.tabIndex = -1;

// The app filter also lists apps that sent nothing yet.
api('GET', '/v1/me/apps')
  .then((/** @type {{ items: { appId: string, appName: string }[] }} */ apps) => {
    for (const app of apps.items) state.apps.set(app.appId, app.appName);
    renderFilter();
  })
  .catch(() => undefined);

void refresh();
setInterval(() => {
  if (!document.hidden) void refresh();
}, POLL_MS);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void reload();
});
