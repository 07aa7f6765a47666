import * as t from 'io-ts';
import { complaintFactsOf } from '../../../application/complaints/complaintFacts.js';
import type { ComplaintRow } from '../../../projections/complaints/complaintsProjection.js';
import { fileComplaint } from '../../../application/complaints/fileComplaint.js';
import { withdrawComplaint } from '../../../application/complaints/withdrawComplaint.js';
import { reinstateApp } from '../../../application/reputation/reinstateApp.js';
import { secureIds } from '../../security/secureIds.js';
import { boundedString, queryInt, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, orProblem, type Route } from '../routing.js';
import { commandContext, type ApiDeps } from './deps.js';
import { invocationOf, orRefusal } from './refusals.js';

const Category = t.keyof(
  { spam: null, fraud: null, abuse: null, other: null },
  'ComplaintCategory',
);
const Severity = t.keyof({ minor: null, major: null, severe: null }, 'Severity');
const Status = t.keyof(
  { open: null, upheld: null, dismissed: null, withdrawn: null },
  'ComplaintStatus',
);
const Note = boundedString('Note', { minLength: 1, maxLength: 1_000 });

const FileBody = strictObject('FileComplaint', {
  category: Category,
  reason: boundedString('Reason', { minLength: 1, maxLength: 1_000 }),
});
const MessageParams = strictObject('MessageParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 64 }),
});
const ComplaintParams = strictObject('ComplaintParams', {
  complaintId: boundedString('ComplaintId', { minLength: 1, maxLength: 64 }),
});
const AppParams = strictObject('AppParams', {
  appId: boundedString('AppId', { minLength: 1, maxLength: 64 }),
});

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);
const ComplaintView = t.type(
  {
    complaintId: t.string,
    messageId: t.string,
    appId: t.string,
    category: Category,
    reason: t.string,
    status: Status,
    severity: nullable(Severity),
    note: nullable(t.string),
    filedAt: t.string,
    decidedAt: nullable(t.string),
  },
  'Complaint',
);
const OperatorComplaintView = t.intersection(
  [ComplaintView, t.type({ recipientId: t.string })],
  'OperatorComplaint',
);

const view: (row: ComplaintRow) => t.TypeOf<typeof ComplaintView> = complaintFactsOf;

/** Complaints by people, their review by operators, and reinstatement (docs/api.md + issue 5). */
export const complaintRoutes = (deps: ApiDeps): Route[] => {
  const file = fileComplaint({ ...deps, ids: secureIds });
  const withdraw = withdrawComplaint(deps);
  const reinstate = reinstateApp(deps);
  const complaint = (complaintId: string): ComplaintRow => {
    const row = deps.complaints.byId(complaintId);
    if (row === undefined) throw new ProblemError('not_found', `no complaint ${complaintId}`);
    return row;
  };
  return [
    defineRoute(
      {
        method: 'post',
        path: '/v1/me/inbox/:messageId/complaints',
        tag: 'recipient',
        summary: 'Complain about a message you received',
        description:
          'One open complaint per person and message. The message leaves your inbox view (withdrawing brings it back). Upheld complaints cost the app reputation. A test push of the built-in app Tidings is 403 forbidden: it has no reputation; turn it down in your apps instead.',
        auth: 'recipient',
        params: MessageParams,
        body: FileBody,
        errors: ['forbidden', 'not_found', 'duplicate_complaint'],
        responses: { 201: { description: 'Filed', body: t.type({ complaintId: t.string }) } },
      },
      async (request) => {
        const { caller, params, body } = request;
        const complaintId = orRefusal(
          await file(caller.recipientId, params.messageId, body, invocationOf(request)),
        );
        return { status: 201, body: { complaintId } };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/complaints',
        tag: 'recipient',
        summary: 'Your complaints, newest first',
        auth: 'recipient',
        responses: {
          200: { description: 'Complaints', body: t.type({ items: t.array(ComplaintView) }) },
        },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: { items: deps.complaints.ofRecipient(request.caller.recipientId).map(view) },
        }),
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/me/complaints/:complaintId',
        tag: 'recipient',
        summary: 'Withdraw an open complaint',
        auth: 'recipient',
        params: ComplaintParams,
        errors: ['not_found', 'illegal_state'],
        responses: { 204: { description: 'Withdrawn' } },
      },
      async (request) => {
        orRefusal(
          await withdraw(
            request.caller.recipientId,
            request.params.complaintId,
            invocationOf(request),
          ),
        );
        return { status: 204 };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/admin/complaints',
        tag: 'operator',
        summary: 'Complaints by status, oldest first',
        auth: 'operator',
        query: strictObject(
          'ComplaintQuery',
          {},
          { status: Status, limit: queryInt('Limit', { min: 1, max: 1_000 }) },
        ),
        responses: {
          200: {
            description: 'Complaints',
            body: t.type({ items: t.array(OperatorComplaintView) }),
          },
        },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: {
            items: deps.complaints
              .withStatus(request.query.status ?? 'open', request.query.limit ?? 200)
              .map((row) => ({ ...view(row), recipientId: row.recipient_id })),
          },
        }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/complaints/:complaintId/uphold',
        tag: 'operator',
        summary: 'Uphold a complaint',
        description:
          'Costs the app points by severity (minor 5, major 15, severe 30 by default) and may suspend or ban it. A complaint about the built-in app Tidings cannot be upheld (403 forbidden); dismiss it.',
        auth: 'operator',
        params: ComplaintParams,
        body: strictObject('Uphold', { severity: Severity }, { note: Note }),
        errors: ['forbidden', 'not_found', 'illegal_state'],
        responses: {
          200: { description: 'Upheld', body: t.type({ status: t.literal('upheld') }) },
        },
      },
      async (request) => {
        const row = complaint(request.params.complaintId);
        const { severity, note } = request.body;
        orProblem(
          await deps.commands.execute(
            'complaint',
            row.complaint_id,
            {
              type: 'UpholdComplaint',
              data: {
                complaintId: row.complaint_id,
                severity,
                ...(note === undefined ? {} : { note }),
              },
              metadata: { now: request.now },
            },
            commandContext(request),
          ),
        );
        return { status: 200, body: { status: 'upheld' } };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/complaints/:complaintId/dismiss',
        tag: 'operator',
        summary: 'Dismiss a complaint',
        auth: 'operator',
        params: ComplaintParams,
        body: strictObject('Dismiss', {}, { note: Note }),
        errors: ['not_found', 'illegal_state'],
        responses: {
          200: { description: 'Dismissed', body: t.type({ status: t.literal('dismissed') }) },
        },
      },
      async (request) => {
        const row = complaint(request.params.complaintId);
        const { note } = request.body;
        orProblem(
          await deps.commands.execute(
            'complaint',
            row.complaint_id,
            {
              type: 'DismissComplaint',
              data: { complaintId: row.complaint_id, ...(note === undefined ? {} : { note }) },
              metadata: { now: request.now },
            },
            commandContext(request),
          ),
        );
        return { status: 200, body: { status: 'dismissed' } };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/apps/:appId/reinstate',
        tag: 'operator',
        summary: 'Lift a suspension or ban',
        description:
          'The app comes back with at least the suspension threshold (60 points by default); the note is recorded.',
        auth: 'operator',
        params: AppParams,
        body: strictObject('Reinstate', {}, { note: Note }),
        errors: ['not_found'],
        responses: {
          200: {
            description: 'Reinstated (or already active)',
            body: t.type({ status: t.literal('active') }),
          },
        },
      },
      async (request) => {
        orRefusal(await reinstate(request.params.appId, request.body.note, invocationOf(request)));
        return { status: 200, body: { status: 'active' } };
      },
    ),
  ];
};
