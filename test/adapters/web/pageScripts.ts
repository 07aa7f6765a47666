/**
 * Code the browser tests run inside the page. It is kept as source text (evaluated as an
 * expression by Playwright) because this project type-checks for Node only, without the DOM
 * library; each constant says what it evaluates to.
 */

/** `string`: the trimmed text of the focused element. */
export const focusedText = `document.activeElement?.textContent?.trim() ?? ''`;

/** `string`: the body's computed background colour. */
export const bodyBackground = `getComputedStyle(document.body).backgroundColor`;

/** `string`: the cookies scripts can read. */
export const readableCookies = `document.cookie`;

/** Resolves when the page's fonts are loaded. */
export const fontsReady = `document.fonts.ready.then(() => true)`;

/** What {@link inlineFacts} reports. */
export interface InlineFacts {
  readonly scripts: number;
  readonly styles: number;
  readonly handlers: string[];
  readonly external: string[];
}

/**
 * {@link InlineFacts}: inline scripts, inline styles, `on*` attributes, assets from elsewhere. The
 * page's JSON data block (its catalogue) is not counted: a browser never runs one.
 */
export const inlineFacts = `({
  scripts: document.querySelectorAll('script:not([src]):not([type="application/json"])').length,
  styles: document.querySelectorAll('style, [style]').length,
  handlers: [...document.querySelectorAll('*')].flatMap((element) =>
    element.getAttributeNames().filter((name) => name.startsWith('on')),
  ),
  external: [...document.querySelectorAll('script[src], link[href]')]
    .map((element) => element.getAttribute('src') ?? element.getAttribute('href') ?? '')
    .filter((url) => !url.startsWith('/static/')),
})`;

/** What {@link pageFacts} reports. */
export interface PageFacts {
  /** How far the page scrolls sideways (0 when it fits). */
  readonly overflow: number;
  readonly h1: number;
  /** Heading levels that skip one (an h3 right after an h1). */
  readonly skips: number[];
  /** Form controls without a label. */
  readonly unlabelled: string[];
  /** Buttons without a name. */
  readonly nameless: string[];
}

/** {@link PageFacts} of the page as it is. */
export const pageFacts = `(() => {
  const controls = [...document.querySelectorAll('input, select, textarea')].filter(
    (element) => element.type !== 'hidden',
  );
  const unlabelled = controls
    .filter(
      (element) =>
        (element.labels?.length ?? 0) === 0 &&
        !element.hasAttribute('aria-label') &&
        !element.hasAttribute('aria-labelledby'),
    )
    .map((element) => element.outerHTML.slice(0, 80));
  const nameless = [...document.querySelectorAll('button')]
    .filter((b) => (b.getAttribute('aria-label') ?? b.textContent ?? '').trim() === '')
    .map((b) => b.outerHTML.slice(0, 80));
  const levels = [...document.querySelectorAll('h1, h2, h3, h4')]
    .filter((h) => h.offsetParent !== null || h.closest('details') !== null)
    .map((h) => Number(h.tagName[1]));
  const skips = levels.filter((level, index) => index > 0 && level > levels[index - 1] + 1);
  return {
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    h1: document.querySelectorAll('h1').length,
    skips,
    unlabelled,
    nameless,
  };
})()`;

/**
 * `number[]`: the statuses of three same-origin POSTs to `path`: without the CSRF header, with a
 * wrong one, with the right one (read from the cookie).
 */
export const postThreeWays = (path: string): string => `(async () => {
  const url = ${JSON.stringify(path)};
  const token = /tidings_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
  const without = await fetch(url, { method: 'POST' });
  const wrong = await fetch(url, { method: 'POST', headers: { 'X-CSRF-Token': token + 'x' } });
  const right = await fetch(url, { method: 'POST', headers: { 'X-CSRF-Token': token } });
  return [without.status, wrong.status, right.status];
})()`;
