import type { OutgoingMessage } from '../channel.js';
import { appLabel, singleLine } from './emailHeaders.js';

/**
 * The two parts of a mail, built from the same fields. Every piece of content comes from the app
 * that sent the message, so none of it is trusted: the HTML part escapes all of it, and a link is
 * made only of an `http:` or `https:` URL.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` with `&`, `<`, `>`, `"` and `'` escaped: safe in element content and quoted attributes. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);

/** The URL, normalised, when it is an absolute `http:` or `https:` URL; otherwise none. */
export const webLink = (url: string | undefined): string | undefined => {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
};

/** Line breaks as `\n`, and no other control character but the tab. */
const cleanText = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');

/** The optional one-line fields, blank ones dropped. */
const headingsOf = (message: OutgoingMessage) => {
  const title = singleLine(message.title ?? '');
  const subtitle = singleLine(message.subtitle ?? '');
  return {
    ...(title === '' ? {} : { title }),
    ...(subtitle === '' ? {} : { subtitle }),
  };
};

const footer = (app: string): string => `Sent by Tidings for ${app}.`;

/** The `text/plain` part: title, subtitle, body, the link, and a signature naming the app. */
export const textPart = (message: OutgoingMessage): string => {
  const { title, subtitle } = headingsOf(message);
  const link = webLink(message.url);
  const head = [title, subtitle].filter((line) => line !== undefined).join('\n');
  const blocks = [head, cleanText(message.body).trim(), link ?? ''].filter((block) => block !== '');
  return `${blocks.join('\n\n')}\n\n-- \n${footer(appLabel(message))}\n`;
};

/** The body as HTML paragraphs: blank lines separate paragraphs, single breaks become `<br>`. */
const paragraphs = (body: string): string[] =>
  cleanText(body)
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .map((paragraph) => `<p>${paragraph.split('\n').map(escapeHtml).join('<br>\n')}</p>`);

/**
 * The `text/html` part: a minimal document (inline styles only, as mail clients strip the rest)
 * with the app's name, the title, the subtitle, the body and the link, every one escaped.
 */
export const htmlPart = (message: OutgoingMessage, subject: string): string => {
  const { title, subtitle } = headingsOf(message);
  const link = webLink(message.url);
  const app = escapeHtml(appLabel(message));
  const lines = [
    '<!DOCTYPE html>',
    '<html>',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    '<body style="font-family: sans-serif; line-height: 1.4;">',
    `<p style="color: #555;">${app}</p>`,
    ...(title === undefined ? [] : [`<h1 style="font-size: 1.3em;">${escapeHtml(title)}</h1>`]),
    ...(subtitle === undefined ? [] : [`<p><strong>${escapeHtml(subtitle)}</strong></p>`]),
    ...paragraphs(message.body),
    ...(link === undefined ? [] : [`<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`]),
    `<hr><p style="color: #555; font-size: 0.85em;">${escapeHtml(footer(appLabel(message)))}</p>`,
    '</body>',
    '</html>',
  ];
  return `${lines.join('\n')}\n`;
};
