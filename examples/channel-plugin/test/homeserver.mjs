// A stand-in Matrix homeserver for the tests: the one route the plugin uses, `PUT
// /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}`, with bearer tokens, room
// membership, transaction ids (a repeated txnId answers the first event and posts nothing) and
// the spec's error bodies. On 127.0.0.1, a random port.
import { createServer } from 'node:http';

const ROUTE = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/;

/**
 * @param {{ token: string, roomId: string }} account the one account and the room it is in
 */
export const startHomeserver = async (account) => {
  /** @type {{ roomId: string, type: string, content: unknown }[]} */
  const events = [];
  /** @type {Map<string, string>} txnId → event id */
  const transactions = new Map();
  /** What the next requests answer instead, when a test wants trouble. */
  const state = { overload: false };
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const answer = (status, json, headers = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(json));
      };
      const match = ROUTE.exec(request.url ?? '');
      if (request.method !== 'PUT' || match === null)
        return answer(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
      if (request.headers.authorization !== `Bearer ${account.token}`) {
        return answer(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Unknown access token' });
      }
      if (state.overload)
        return answer(429, {
          errcode: 'M_LIMIT_EXCEEDED',
          error: 'Too many requests',
          retry_after_ms: 2000,
        });
      const [roomId, type, txnId] = match.slice(1).map(decodeURIComponent);
      if (roomId !== account.roomId)
        return answer(403, { errcode: 'M_FORBIDDEN', error: 'User not in room' });
      const known = transactions.get(txnId);
      if (known !== undefined) return answer(200, { event_id: known });
      let content;
      try {
        content = JSON.parse(body);
      } catch {
        return answer(400, { errcode: 'M_NOT_JSON', error: 'Content not JSON.' });
      }
      const eventId = `$event${events.length + 1}`;
      transactions.set(txnId, eventId);
      events.push({ roomId, type, content });
      return answer(200, { event_id: eventId });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${address.port}`,
    events,
    state,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
};
