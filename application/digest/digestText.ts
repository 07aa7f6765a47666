import type { Locale } from '../../domain/recipient/recipientPreferences.js';
import type { DigestApp, DigestHeadline } from '../../projections/messages/digestQueries.js';
import { translate, translateCount } from '../i18n/catalogue.js';

/** Apps a digest names; the rest are counted in one line ("and 2 more apps"). */
export const DIGEST_MAX_APPS = 6;

/** Newest messages a digest names per app. */
export const DIGEST_MAX_HEADLINES = 3;

/** Characters of a title (or body start) a digest shows, an ellipsis included. */
const HEADLINE_CHARS = 40;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` on one line, cut to `max` characters with an ellipsis if longer. Characters are what a
 * reader counts (grapheme clusters): an emoji with its modifiers or a CJK character is one.
 */
const shorten = (text: string, max: number): string => {
  const flat = text.replace(/\s+/gu, ' ').trim();
  const chars = Array.from(graphemes.segment(flat), ({ segment }) => segment);
  return chars.length <= max
    ? flat
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
};

/** A message as a digest names it: its title, else the start of its body. */
const headlineOf = ({ title, body }: DigestHeadline): string =>
  shorten(title !== null && title.trim() !== '' ? title : body, HEADLINE_CHARS);

/**
 * The words of a daily digest in `locale`: a title with the number of messages, then a line per
 * app (the apps with the most first, at most {@link DIGEST_MAX_APPS}) with its count and its
 * newest titles (at most {@link DIGEST_MAX_HEADLINES}), a line counting the apps left out, and the
 * link to the inbox. `apps` is never empty: an empty day sends no digest.
 */
export const digestText = (
  locale: Locale,
  apps: readonly DigestApp[],
  inboxUrl: string,
): { readonly title: string; readonly body: string } => {
  const total = apps.reduce((sum, app) => sum + app.count, 0);
  const list = new Intl.ListFormat(locale, { type: 'conjunction', style: 'narrow' });
  const lines = apps.slice(0, DIGEST_MAX_APPS).map((app) =>
    translateCount(locale, 'digest.app', app.count, {
      app: shorten(app.appName, HEADLINE_CHARS),
      titles: list.format(app.newest.slice(0, DIGEST_MAX_HEADLINES).map(headlineOf)),
    }),
  );
  const more = apps.length - DIGEST_MAX_APPS;
  if (more > 0) lines.push(translateCount(locale, 'digest.moreApps', more));
  lines.push(translate(locale, 'digest.inbox', { url: inboxUrl }));
  return { title: translateCount(locale, 'digest.title', total), body: lines.join('\n') };
};
