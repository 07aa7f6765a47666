import * as t from 'io-ts';
import { boundedString, queryBoolean, queryInt, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, orProblem, type Route } from '../routing.js';
import type { InboxRow } from '../../../projections/messages/messageQueries.js';
import type { InboxDeliveryFacts } from '../../../projections/messages/deliveryQueries.js';
import type { DeviceView } from '../../../projections/recipients/recipientQueries.js';
import { commandContext, type ApiDeps } from './deps.js';
import { InboxDelivery, inboxDelivery } from './inboxDeliveryView.js';

const InboxQuery = strictObject(
  'InboxQuery',
  {},
  {
    unread: queryBoolean('Unread'),
    thread: boundedString('Thread', { minLength: 1, maxLength: 128 }),
    appId: boundedString('AppId', { minLength: 1, maxLength: 64 }),
    cursor: boundedString('Cursor', { minLength: 1, maxLength: 512 }),
    limit: queryInt('Limit', { min: 1, max: 100 }),
  },
);

const InboxParams = strictObject('InboxParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 64 }),
});

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);

const InboxItem = t.type(
  {
    messageId: t.string,
    appId: t.string,
    appName: t.string,
    title: nullable(t.string),
    subtitle: nullable(t.string),
    body: t.string,
    url: nullable(t.string),
    thread: nullable(t.string),
    receivedAt: t.string,
    readAt: nullable(t.string),
    /** Where it was pushed, and why not when it was not (./inboxDeliveryView.ts). */
    delivery: InboxDelivery,
  },
  'InboxItem',
);

/** Cursors are opaque to clients: the position of the last item, base64url-encoded. */
const encodeCursor = (row: InboxRow): string =>
  Buffer.from(JSON.stringify([row.inbox_at, row.message_id])).toString('base64url');

const decodeCursor = (cursor: string): { inboxAt: string; messageId: string } => {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { inboxAt: parsed[0], messageId: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new ProblemError('validation_failed', 'cursor is not one this server gave out', {
    errors: [{ path: '/query/cursor', message: 'is not a cursor from a previous page' }],
  });
};

const inboxItem = (
  row: InboxRow,
  facts: InboxDeliveryFacts | undefined,
  devices: readonly DeviceView[],
): t.TypeOf<typeof InboxItem> => ({
  messageId: row.message_id,
  appId: row.app_id,
  appName: row.app_name,
  title: row.title,
  subtitle: row.subtitle,
  body: row.body,
  url: row.url,
  thread: row.thread,
  receivedAt: row.inbox_at ?? row.created_at,
  readAt: row.read_at,
  delivery: inboxDelivery(row, facts, devices),
});

/** The person's inbox (docs/api.md, "Recipient"). */
export const inboxRoutes = (deps: ApiDeps): Route[] => {
  /** A route that applies one command to a message in the caller's own inbox (else 404). */
  const ownEntryAction = (
    method: 'post' | 'delete',
    path: string,
    summary: string,
    done: string,
    type: 'MarkMessageRead' | 'ArchiveMessage',
  ): Route =>
    defineRoute(
      {
        method,
        path,
        tag: 'recipient',
        summary,
        auth: 'recipient',
        params: InboxParams,
        errors: ['not_found'],
        responses: { 204: { description: done } },
      },
      async (request) => {
        const { recipientId } = request.caller;
        const { messageId } = request.params;
        if (deps.messages.inboxEntry(recipientId, messageId) === undefined) {
          throw new ProblemError('not_found', `no message ${messageId} in your inbox`);
        }
        orProblem(
          await deps.commands.execute(
            'message',
            messageId,
            { type, data: { messageId, recipientId }, metadata: { now: request.now } },
            commandContext(request),
          ),
        );
        return { status: 204 };
      },
    );
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/inbox',
        tag: 'recipient',
        summary: 'The inbox, newest first',
        auth: 'recipient',
        query: InboxQuery,
        responses: {
          200: {
            description:
              'A page of messages; pass nextCursor as cursor for the next page (null at the end)',
            body: t.type({ items: t.array(InboxItem), nextCursor: nullable(t.string) }),
          },
        },
      },
      (request) => {
        const { unread, thread, appId, cursor, limit = 50 } = request.query;
        const rows = deps.messages.inbox({
          recipientId: request.caller.recipientId,
          ...(unread === undefined ? {} : { unread }),
          ...(thread === undefined ? {} : { thread }),
          ...(appId === undefined ? {} : { appId }),
          ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
          limit: limit + 1,
        });
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        // The page's deliveries and bindings in one read, and the person's devices in another.
        const { recipientId } = request.caller;
        const facts = deps.messages.inboxDeliveries(
          recipientId,
          page.map((row) => row.message_id),
        );
        const devices = page.length === 0 ? [] : deps.recipients.devices(recipientId);
        return Promise.resolve({
          status: 200,
          body: {
            items: page.map((row) => inboxItem(row, facts.get(row.message_id), devices)),
            nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
          },
        });
      },
    ),
    ownEntryAction(
      'post',
      '/v1/me/inbox/:messageId/read',
      'Mark a message read',
      'Marked read',
      'MarkMessageRead',
    ),
    ownEntryAction(
      'delete',
      '/v1/me/inbox/:messageId',
      'Archive a message (it leaves the inbox)',
      'Archived',
      'ArchiveMessage',
    ),
  ];
};
