// A Tidings channel plugin: posts each message into a Matrix room through the client-server API
// (https://spec.matrix.org/v1.11/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid).
// Plain JavaScript, no dependencies: the types come from 'tidings/plugin' through JSDoc only, so
// the file runs wherever Tidings loads it (TIDINGS_CHANNEL_PLUGINS=/path/to/matrix.mjs).

/**
 * @typedef {{ homeserver: string, roomId: string, token: string }} MatrixSettings
 * @typedef {{ url: string, token: string, room: string, event: MatrixEvent }} MatrixRequest
 * @typedef {{ msgtype: 'm.text' | 'm.notice', body: string, format: 'org.matrix.custom.html', formatted_body: string }} MatrixEvent
 * @typedef {import('tidings/plugin').HttpResult} HttpResult
 * @typedef {import('tidings/plugin').SendOutcome} SendOutcome
 */

/** Matrix has no hard limit below the 64 KiB event size; keep messages readable on phones. */
const MAX_BODY_CHARS = 4000;

/** @param {string} text */
const escapeHtml = (text) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** @param {string} text @param {number} max */
const cut = (text, max) => {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
};

/**
 * The event for a message: the app's name first (people must see who speaks), the title in bold,
 * the body, the link. A passive message is an `m.notice` (clients do not ping for notices).
 * @param {import('tidings/plugin').OutgoingMessage} message
 * @returns {MatrixEvent}
 */
const eventOf = (message) => {
  const heading = [message.title, message.subtitle]
    .filter((part) => part !== undefined && part !== '')
    .join(' — ');
  const body = cut(message.body, MAX_BODY_CHARS);
  const plain = [`[${message.appName}]${heading === '' ? '' : ` ${heading}`}`, body, message.url]
    .filter((line) => line !== undefined)
    .join('\n');
  const html = [
    `<b>[${escapeHtml(message.appName)}]${heading === '' ? '' : ` ${escapeHtml(heading)}`}</b>`,
    escapeHtml(body).replace(/\n/g, '<br>'),
    message.url === undefined
      ? undefined
      : `<a href="${escapeHtml(message.url)}">${escapeHtml(message.url)}</a>`,
  ]
    .filter((line) => line !== undefined)
    .join('<br>');
  return {
    msgtype: message.level === 'passive' ? 'm.notice' : 'm.text',
    body: plain,
    format: 'org.matrix.custom.html',
    formatted_body: html,
  };
};

/**
 * The transaction id is the message id: a retry of the same message is the same transaction,
 * which the homeserver answers with the event it already made instead of posting twice.
 * @param {MatrixSettings} settings @param {string} messageId
 */
const sendUrl = (settings, messageId) =>
  `${settings.homeserver.replace(/\/+$/, '')}/_matrix/client/v3/rooms/${encodeURIComponent(settings.roomId)}` +
  `/send/m.room.message/${encodeURIComponent(`tidings-${messageId}`)}`;

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date) or Matrix's `retry_after_ms`.
 * @param {Record<string, string>} headers @param {unknown} body @param {Date} now */
const retryAfterMs = (headers, body, now) => {
  const header = headers['retry-after'];
  if (header !== undefined) {
    if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - now.getTime());
  }
  const fromBody = /** @type {{ retry_after_ms?: unknown } | undefined} */ (body)?.retry_after_ms;
  return typeof fromBody === 'number' && fromBody >= 0 ? fromBody : undefined;
};

/** @param {string} text */
const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * What an answer of the homeserver means for the delivery (spec "Standard error response").
 * @param {HttpResult} result @param {Date} now @returns {SendOutcome}
 */
export const outcomeOf = (result, now) => {
  switch (result.kind) {
    case 'refused':
      return result.reason === 'unresolvable'
        ? { kind: 'failed', reason: `homeserver name did not resolve: ${result.detail}` }
        : { kind: 'rejected', reason: result.detail, code: 'forbidden_destination' };
    case 'timed_out':
      return { kind: 'failed', reason: `homeserver did not answer within ${result.timeoutMs} ms` };
    case 'failed':
      return { kind: 'failed', reason: `homeserver unreachable: ${result.code}` };
    case 'answered':
      break;
    default:
      return { kind: 'failed', reason: 'unknown HTTP result' };
  }
  const body = parse(result.body);
  const said =
    typeof body?.errcode === 'string'
      ? `${body.errcode}${typeof body.error === 'string' ? ` ${body.error}` : ''}`
      : '';
  const reason = `homeserver answered ${result.status}${said === '' ? '' : `: ${said}`}`;
  if (result.status >= 200 && result.status < 300) return { kind: 'delivered' };
  if (result.status === 429) {
    const after = retryAfterMs(result.headers, body, now);
    return after === undefined
      ? { kind: 'failed', reason }
      : { kind: 'failed', reason, retryAfterMs: after };
  }
  if (result.status === 408 || result.status >= 500) return { kind: 'failed', reason };
  if (result.status >= 300 && result.status < 400) {
    return {
      kind: 'rejected',
      reason: `${reason} (a redirect: give the homeserver's final URL)`,
      code: 'misconfigured',
    };
  }
  // 401 M_UNKNOWN_TOKEN, 403 M_FORBIDDEN (not in the room), 404 (no such room or not a homeserver).
  if ([401, 403, 404].includes(result.status))
    return { kind: 'rejected', reason, code: 'misconfigured' };
  return { kind: 'rejected', reason, code: 'bad_request' };
};

/** @type {import('tidings/plugin').Channel<MatrixSettings, MatrixRequest>} */
const matrixChannel = {
  kind: 'matrix',
  name: 'Matrix room',
  settings: [
    {
      name: 'homeserver',
      description: 'Your homeserver, e.g. https://matrix.example',
      type: 'url',
      secret: false,
      required: true,
    },
    {
      name: 'roomId',
      description: 'The room id (Room settings → Advanced), e.g. !abc:matrix.example',
      type: 'string',
      secret: false,
      required: true,
    },
    {
      name: 'token',
      description: 'An access token of the account that posts (it must be in the room)',
      type: 'string',
      secret: true,
      required: true,
    },
  ],
  // No renderRecall: redacting needs the event id the homeserver assigned when it took the
  // message, and render is pure (it cannot know it) while Tidings keeps no receipt per delivery.
  render: (message, settings) => ({
    url: sendUrl(settings, message.messageId),
    token: settings.token,
    room: settings.roomId,
    event: eventOf(message),
  }),
  async send(request, context) {
    const result = await context.http.request({
      method: 'PUT',
      url: request.url,
      headers: { authorization: `Bearer ${request.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(request.event),
      timeoutMs: 10_000,
    });
    const outcome = outcomeOf(result, context.now());
    if (outcome.kind !== 'delivered') {
      // The room and the outcome only: the token stays out of the logs.
      context.logger.warn('matrix delivery not accepted', {
        room: request.room,
        outcome: outcome.kind,
        reason: outcome.reason,
      });
    }
    return outcome;
  },
};

export default matrixChannel;
