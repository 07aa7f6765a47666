// @ts-check
// Shared by every page: the page's words (the catalogue the server put in the page), the API
// client (with the CSRF header), a tiny DOM builder that only ever sets text (never HTML), time
// formatting in the person's language and time zone, the status toast, the confirm dialog, the
// language switch and log out.

/** @type {Record<string, string>} the catalogue of the page's language (application/i18n/) */
const catalogue = (() => {
  try {
    return JSON.parse(document.getElementById('tidings-text')?.textContent ?? '{}');
  } catch {
    return {};
  }
})();

/** The page's language, as the server chose it (`<html lang>`). */
export const pageLocale = document.documentElement.lang || 'en';

/** The person's time zone when they chose one; undefined: the browser's own. */
const timeZone = document.documentElement.dataset['timeZone'] || undefined;

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/**
 * The text of `key` split at its placeholders, each filled from `params` (strings, numbers or
 * nodes): children for {@link el}, so a name can be in bold without any HTML being parsed.
 *
 * @param {string} key
 * @param {Record<string, unknown>} [params]
 * @returns {(string | Node)[]}
 */
export const tx = (key, params = {}) => {
  const template = catalogue[key] ?? key;
  /** @type {(string | Node)[]} */
  const parts = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!(name in params)) continue;
    if ((match.index ?? 0) > last) parts.push(template.slice(last, match.index));
    const value = params[name];
    parts.push(value instanceof Node ? value : String(value));
    last = (match.index ?? 0) + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return parts;
};

/**
 * The text of `key` in the page's language, `{name}` placeholders filled from `params`.
 *
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 */
export const t = (key, params = {}) => tx(key, params).join('');

const plurals = new Intl.PluralRules(pageLocale);

/**
 * The plural form of `base` (`base.one` / `base.other`) for `count`, `{count}` filled in.
 *
 * @param {string} base
 * @param {number} count
 * @param {Record<string, string | number>} [params]
 */
export const tn = (base, count, params = {}) => {
  const one = `${base}.one`;
  const key = plurals.select(count) === 'one' && one in catalogue ? one : `${base}.other`;
  return t(key, { count, ...params });
};

/** The double-submit token the server set as a cookie; sent back in X-CSRF-Token. */
export const csrfToken = () => {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'tidings_csrf') return decodeURIComponent(rest.join('='));
  }
  return '';
};

/** An answer the API refused, with its problem document. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{ detail?: string, code?: string, errors?: { path: string, message: string }[] } | undefined} problem
   */
  constructor(status, problem) {
    super(problem?.detail ?? t('common.requestFailed', { status }));
    this.status = status;
    this.problem = problem;
    this.code = problem?.code;
  }
}

/**
 * Calls the JSON API. State-changing calls carry the CSRF token; a lost session sends the
 * person to log in and come back (except when `quietUnauthorized` is set).
 *
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ token?: string, quietUnauthorized?: boolean }} [options]
 * @returns {Promise<any>}
 */
export const api = async (method, path, body, options = {}) => {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
  if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let data;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    if (response.status === 401 && options.token === undefined && !options.quietUnauthorized) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(response.status, data);
  }
  return data;
};

/**
 * Builds an element. Strings become text nodes, so nothing from a message is ever parsed as
 * HTML. Attributes are set as attributes; `on*` keys attach listeners.
 *
 * @param {string} tag
 * @param {Record<string, unknown>} [attributes]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export const el = (tag, attributes = {}, ...children) => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  const append = (/** @type {unknown} */ child) => {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(append);
    else if (child instanceof Node) element.append(child);
    else element.append(document.createTextNode(String(child)));
  };
  children.forEach(append);
  return element;
};

/** A link target only when it is http(s): a message's `url` never becomes `javascript:`. */
export const safeHref = (/** @type {string | null | undefined} */ url) => {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
};

const zoned = timeZone === undefined ? {} : { timeZone };
const dateTime = new Intl.DateTimeFormat(pageLocale, {
  dateStyle: 'medium',
  timeStyle: 'short',
  ...zoned,
});
const timeOnly = new Intl.DateTimeFormat(pageLocale, { timeStyle: 'short', ...zoned });
const dayOf = new Intl.DateTimeFormat('en-CA', { dateStyle: 'short', ...zoned });

/** A time as people read it, in their language and time zone: today's as the hour, older ones with the date. */
export const formatTime = (/** @type {string} */ iso) => {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dayOf.format(date) === dayOf.format(new Date())
    ? timeOnly.format(date)
    : dateTime.format(date);
};

/** A `<time>` element for an ISO time. */
export const timeEl = (/** @type {string} */ iso) =>
  el('time', { datetime: iso, title: dateTime.format(new Date(iso)) }, formatTime(iso));

let toastTimer = 0;
/** Says something in the polite live region (and shows it briefly). */
export const announce = (/** @type {string} */ message, bad = false) => {
  const toast = document.getElementById('toast');
  if (toast === null) return;
  toast.textContent = message;
  toast.classList.toggle('bad', bad);
  toast.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => toast.classList.remove('show'), 4000);
};

/**
 * The message of a failed call, for people, in the page's language: the catalogue's sentence for
 * the problem's code (with the server's detail where the sentence has room for it), else the
 * server's detail.
 */
export const reason = (/** @type {unknown} */ error) => {
  if (!(error instanceof ApiError)) return t('common.unreachable');
  const code = error.problem?.code;
  if (error.status === 403 && code === 'forbidden') return t('common.outOfDate');
  const key = `problem.${code}`;
  return code !== undefined && key in catalogue
    ? t(key, { detail: error.problem?.detail ?? '' })
    : (error.problem?.detail ?? error.message);
};

/**
 * Asks before something that cannot be undone, in the page's confirm dialog.
 *
 * @param {string} question
 * @param {string} text
 * @param {string} yes
 * @returns {Promise<boolean>}
 */
export const confirmAction = (question, text, yes) => {
  const dialog = /** @type {HTMLDialogElement | null} */ (
    document.getElementById('confirm-dialog')
  );
  if (dialog === null) return Promise.resolve(false);
  const title = document.getElementById('confirm-title');
  const body = document.getElementById('confirm-text');
  const button = document.getElementById('confirm-yes');
  if (title) title.textContent = question;
  if (body) body.textContent = text;
  if (button) button.textContent = yes;
  dialog.returnValue = '';
  const opener = document.activeElement;
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
        resolve(dialog.returnValue === 'yes');
      },
      { once: true },
    );
  });
};

/** Shows or clears an inline error paragraph. */
export const showError = (/** @type {HTMLElement | null} */ target, /** @type {string} */ text) => {
  if (target === null) return;
  target.textContent = text;
  target.hidden = text === '';
};

// Times rendered by the server are ISO: show them in the reader's time zone.
for (const time of document.querySelectorAll('time[datetime]')) {
  const iso = time.getAttribute('datetime');
  if (iso !== null) time.textContent = formatTime(iso);
}

// The language switch: for a signed-in person the choice is saved as their `locale` preference
// first (the page's language follows the preference), then the link sets the cookie too.
document.addEventListener('click', async (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[data-locale]') : null;
  if (!(link instanceof HTMLElement) || document.body.dataset['signedIn'] === undefined) return;
  event.preventDefault();
  try {
    const current = await api('GET', '/v1/me/preferences');
    await api('PUT', '/v1/me/preferences', { ...current, locale: link.dataset['locale'] });
    location.assign(link.getAttribute('href') ?? '/');
  } catch (failure) {
    announce(t('lang.saveFailed', { reason: reason(failure) }), true);
  }
});

// Log out (header button, and "use another account" on the consent page).
document.addEventListener('click', async (event) => {
  const target = event.target instanceof Element ? event.target.closest('[data-logout]') : null;
  if (target === null) return;
  event.preventDefault();
  try {
    await api('POST', '/v1/auth/logout');
  } finally {
    location.assign(target.getAttribute('data-logout') || '/login');
  }
});
