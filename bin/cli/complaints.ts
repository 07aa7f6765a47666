import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import {
  argument,
  choice,
  count,
  segment,
  text,
  type CommandGroup,
  type Invocation,
  type Output,
} from './command.js';
import { usageFailure, type Failure } from './failure.js';
import { answerWith, requestJson } from './http.js';
import { table } from './output.js';

/** `tidings complaints …`: people's complaints, upheld or dismissed (docs/api.md "Operator"). */

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);

const Complaint = t.type({
  complaintId: t.string,
  messageId: t.string,
  appId: t.string,
  category: t.string,
  reason: t.string,
  status: t.string,
  severity: nullable(t.string),
  filedAt: t.string,
});
type Complaint = t.TypeOf<typeof Complaint>;

const ComplaintList = t.type({ items: t.readonlyArray(Complaint) }, 'ComplaintList');
const Decision = t.type({ status: t.string }, 'Decision');

const STATUSES = ['open', 'upheld', 'dismissed', 'withdrawn'] as const;
const SEVERITIES = ['minor', 'major', 'severe'] as const;

const list = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    E.Do,
    E.apS('status', choice(invocation, 'status', STATUSES)),
    E.apS('limit', count(invocation, 'limit')),
    TE.fromEither,
    TE.flatMap(({ status, limit }) => {
      const query = new URLSearchParams();
      if (status !== undefined) query.set('status', status);
      if (limit !== undefined) query.set('limit', String(limit));
      const search = query.size === 0 ? '' : `?${query.toString()}`;
      return requestJson(invocation.connection, 'operator', 'GET', `/v1/admin/complaints${search}`);
    }),
    TE.flatMapEither(
      answerWith(invocation, ComplaintList, 'list of complaints', ({ items }) =>
        table<Complaint>(
          [
            { header: 'COMPLAINT ID', cell: (complaint) => complaint.complaintId },
            { header: 'APP ID', cell: (complaint) => complaint.appId },
            { header: 'MESSAGE ID', cell: (complaint) => complaint.messageId },
            { header: 'CATEGORY', cell: (complaint) => complaint.category },
            { header: 'STATUS', cell: (complaint) => complaint.status },
            { header: 'SEVERITY', cell: (complaint) => complaint.severity },
            { header: 'FILED', cell: (complaint) => complaint.filedAt },
            { header: 'REASON', cell: (complaint) => complaint.reason, maxWidth: 40 },
          ],
          items,
          `no ${text(invocation.values, 'status') ?? 'open'} complaints`,
        ),
      ),
    ),
  );

/** Posts the decision on the complaint the argument names, with the note if one was given. */
const decide = (
  invocation: Invocation,
  decision: 'uphold' | 'dismiss',
  body: Readonly<Record<string, string>>,
): TE.TaskEither<Failure, Output> => {
  const note = text(invocation.values, 'note');
  return pipe(
    requestJson(
      invocation.connection,
      'operator',
      'POST',
      `/v1/admin/complaints/${segment(argument(invocation))}/${decision}`,
      { ...body, ...(note === undefined ? {} : { note }) },
    ),
    TE.flatMapEither(
      answerWith(
        invocation,
        Decision,
        'answer',
        ({ status }) => `${argument(invocation)} is ${status}\n`,
      ),
    ),
  );
};

const uphold = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    choice(invocation, 'severity', SEVERITIES),
    E.flatMap((severity) =>
      severity === undefined
        ? E.left(usageFailure('missing --severity', invocation.usage))
        : E.right(severity),
    ),
    TE.fromEither,
    TE.flatMap((severity) => decide(invocation, 'uphold', { severity })),
  );

export const complaints: CommandGroup = {
  name: 'complaints',
  summary: "decide people's complaints about messages",
  commands: [
    {
      name: 'list',
      summary: 'complaints by status (open by default), oldest first',
      synopsis: '[--status open|upheld|dismissed|withdrawn] [--limit <n>]',
      options: { status: { type: 'string' }, limit: { type: 'string' } },
      args: [],
      run: list,
    },
    {
      name: 'uphold',
      summary: 'uphold a complaint: the app loses the points of the severity',
      synopsis: '<complaintId> --severity minor|major|severe [--note <text>]',
      options: { severity: { type: 'string' }, note: { type: 'string' } },
      args: ['complaintId'],
      run: uphold,
    },
    {
      name: 'dismiss',
      summary: 'dismiss a complaint',
      synopsis: '<complaintId> [--note <text>]',
      options: { note: { type: 'string' } },
      args: ['complaintId'],
      run: (invocation) => decide(invocation, 'dismiss', {}),
    },
  ],
};
