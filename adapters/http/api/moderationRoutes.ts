import * as t from 'io-ts';
import {
  approveHeldMessage,
  rejectHeldMessage,
} from '../../../application/moderation/reviewHeldMessage.js';
import { boundedString, strictObject } from '../codecs.js';
import { defineRoute, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';
import { invocationOf, orRefusal } from './refusals.js';

const MessageParams = strictObject('MessageParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 64 }),
});
const RejectBody = strictObject(
  'RejectHeld',
  {},
  { reason: boundedString('Reason', { minLength: 1, maxLength: 1_000 }) },
);

const HeldItem = t.type(
  {
    messageId: t.string,
    appId: t.string,
    title: t.union([t.string, t.null]),
    subtitle: t.union([t.string, t.null]),
    body: t.string,
    url: t.union([t.string, t.null]),
    policy: t.union([t.string, t.null]),
    reason: t.union([t.string, t.null]),
    createdAt: t.string,
  },
  'HeldMessage',
);

/** Operator review of messages a policy held (docs/api.md, "Operator"). */
export const moderationRoutes = (deps: ApiDeps): Route[] => {
  const approve = approveHeldMessage(deps);
  const reject = rejectHeldMessage(deps);
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/admin/moderation/held',
        tag: 'operator',
        summary: 'Messages waiting for an operator, oldest first',
        auth: 'operator',
        responses: {
          200: { description: 'Held messages', body: t.type({ items: t.array(HeldItem) }) },
        },
      },
      () =>
        Promise.resolve({
          status: 200,
          body: {
            items: deps.messages.held(500).map((row) => ({
              messageId: row.message_id,
              appId: row.app_id,
              title: row.title,
              subtitle: row.subtitle,
              body: row.body,
              url: row.url,
              policy: row.moderation_policy,
              reason: row.moderation_reason,
              createdAt: row.created_at,
            })),
          },
        }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/moderation/:messageId/approve',
        tag: 'operator',
        summary: 'Approve a held message',
        description:
          'It is then delivered (or scheduled, if it is for later) like any approved message. A message that is not held (never held, already approved or rejected, cancelled) is 422 illegal_state.',
        auth: 'operator',
        params: MessageParams,
        errors: ['not_found', 'illegal_state'],
        responses: {
          200: { description: 'Approved', body: t.type({ status: t.literal('approved') }) },
        },
      },
      async (request) => {
        orRefusal(await approve(request.params.messageId, invocationOf(request)));
        return { status: 200, body: { status: 'approved' } };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/moderation/:messageId/reject',
        tag: 'operator',
        summary: 'Reject a held message',
        description:
          'It is never delivered. A message that is not held (never held, already approved or rejected, cancelled) is 422 illegal_state.',
        auth: 'operator',
        params: MessageParams,
        body: RejectBody,
        errors: ['not_found', 'illegal_state'],
        responses: {
          200: { description: 'Rejected', body: t.type({ status: t.literal('rejected') }) },
        },
      },
      async (request) => {
        const reason = request.body.reason ?? 'rejected by an operator';
        orRefusal(await reject(request.params.messageId, reason, invocationOf(request)));
        return { status: 200, body: { status: 'rejected' } };
      },
    ),
  ];
};
