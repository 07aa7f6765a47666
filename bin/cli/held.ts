import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import {
  argument,
  segment,
  text,
  type CommandGroup,
  type Invocation,
  type Output,
} from './command.js';
import type { Failure } from './failure.js';
import { answerWith, requestJson } from './http.js';
import { table } from './output.js';

/** `tidings held …`: messages a moderation policy held for an operator (docs/api.md "Operator"). */

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);

const HeldMessage = t.type({
  messageId: t.string,
  appId: t.string,
  title: nullable(t.string),
  body: t.string,
  policy: nullable(t.string),
  reason: nullable(t.string),
  createdAt: t.string,
});
type HeldMessage = t.TypeOf<typeof HeldMessage>;

const HeldList = t.type({ items: t.readonlyArray(HeldMessage) }, 'HeldList');
const Verdict = t.type({ status: t.string }, 'Verdict');

const list = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    requestJson(invocation.connection, 'operator', 'GET', '/v1/admin/moderation/held'),
    TE.flatMapEither(
      answerWith(invocation, HeldList, 'list of held messages', ({ items }) =>
        table<HeldMessage>(
          [
            { header: 'MESSAGE ID', cell: (message) => message.messageId },
            { header: 'APP ID', cell: (message) => message.appId },
            { header: 'CREATED', cell: (message) => message.createdAt },
            { header: 'POLICY', cell: (message) => message.policy },
            { header: 'REASON', cell: (message) => message.reason, maxWidth: 30 },
            { header: 'TITLE', cell: (message) => message.title, maxWidth: 24 },
            { header: 'BODY', cell: (message) => message.body, maxWidth: 40 },
          ],
          items,
          'no held messages',
        ),
      ),
    ),
  );

/** Approves or rejects the held message the argument names. */
const decide =
  (verdict: 'approve' | 'reject') =>
  (invocation: Invocation): TE.TaskEither<Failure, Output> => {
    const reason = text(invocation.values, 'reason');
    return pipe(
      requestJson(
        invocation.connection,
        'operator',
        'POST',
        `/v1/admin/moderation/${segment(argument(invocation))}/${verdict}`,
        verdict === 'reject' ? (reason === undefined ? {} : { reason }) : undefined,
      ),
      TE.flatMapEither(
        answerWith(
          invocation,
          Verdict,
          'answer',
          ({ status }) => `${argument(invocation)} is ${status}\n`,
        ),
      ),
    );
  };

export const held: CommandGroup = {
  name: 'held',
  summary: 'review messages a moderation policy held',
  commands: [
    {
      name: 'list',
      summary: 'messages waiting for an operator, oldest first',
      synopsis: '',
      options: {},
      args: [],
      run: list,
    },
    {
      name: 'approve',
      summary: 'let a held message go on to delivery',
      synopsis: '<messageId>',
      options: {},
      args: ['messageId'],
      run: decide('approve'),
    },
    {
      name: 'reject',
      summary: 'reject a held message; it is never delivered',
      synopsis: '<messageId> [--reason <text>]',
      options: { reason: { type: 'string' } },
      args: ['messageId'],
      run: decide('reject'),
    },
  ],
};
