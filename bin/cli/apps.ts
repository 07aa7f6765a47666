import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import {
  argument,
  choice,
  count,
  required,
  segment,
  text,
  texts,
  type CommandGroup,
  type Invocation,
  type Output,
} from './command.js';
import { usageFailure, type Failure } from './failure.js';
import { answerWith, requestJson } from './http.js';
import { fields, table } from './output.js';

/** `tidings apps …`: apps as an operator registers and reviews them (docs/api.md "Operator"). */

const AppStatus = t.keyof({ active: null, suspended: null, banned: null }, 'AppStatus');

const CreatedApp = t.type(
  {
    appId: t.string,
    appSecret: t.string,
    name: t.string,
    redirectUris: t.readonlyArray(t.string),
  },
  'CreatedApp',
);

const AppSummary = t.intersection([
  t.type({ appId: t.string, name: t.string, status: AppStatus, score: t.number }),
  t.partial({ registeredAt: t.string, suspendedUntil: t.string }),
]);
type AppSummary = t.TypeOf<typeof AppSummary>;

const AppList = t.type({ items: t.readonlyArray(AppSummary) }, 'AppList');

const AppView = t.intersection(
  [
    AppSummary,
    t.type({
      complaints: t.type({ open: t.number, upheld: t.number, dismissed: t.number }),
      redirectUris: t.readonlyArray(t.string),
    }),
    t.partial({ callbackUrl: t.string }),
  ],
  'AppView',
);

const NewSecret = t.type({ appSecret: t.string }, 'NewSecret');
const Reinstated = t.type({ status: t.string }, 'Reinstated');

/** A secret, set apart so that it is seen, with the warning that it is not shown again. */
const secretBlock = (heading: string, secret: string): string =>
  `${heading}\n\n    ${secret}\n\nIt is shown only this once: store it now (\`tidings apps rotate-secret\` makes a new one).\n`;

const create = (invocation: Invocation): TE.TaskEither<Failure, Output> => {
  const redirectUris = texts(invocation.values, 'redirect-uri');
  const callbackUrl = text(invocation.values, 'callback-url');
  return pipe(
    TE.fromEither(required(invocation, 'name')),
    TE.tap(() =>
      TE.fromEither(
        redirectUris.length === 0
          ? E.left(usageFailure('give at least one --redirect-uri', invocation.usage))
          : E.right(undefined),
      ),
    ),
    TE.flatMap((name) =>
      requestJson(invocation.connection, 'operator', 'POST', '/v1/admin/apps', {
        name,
        redirectUris,
        ...(callbackUrl === undefined ? {} : { callbackUrl }),
      }),
    ),
    TE.flatMapEither(
      answerWith(
        invocation,
        CreatedApp,
        'new app',
        (app) =>
          fields([
            ['appId', app.appId],
            ['name', app.name],
            ['redirectUris', app.redirectUris.join(', ')],
            ['callbackUrl', callbackUrl],
          ]) + `\n${secretBlock('App secret:', app.appSecret)}`,
      ),
    ),
  );
};

const SORTS = ['score', 'name', 'registered'] as const;
const STATUSES = ['active', 'suspended', 'banned'] as const;

const list = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    E.Do,
    E.apS('sort', choice(invocation, 'sort', SORTS)),
    E.apS('status', choice(invocation, 'status', STATUSES)),
    E.apS('limit', count(invocation, 'limit')),
    TE.fromEither,
    TE.flatMap(({ sort, status, limit }) => {
      const query = new URLSearchParams();
      if (sort !== undefined) query.set('sort', sort);
      if (status !== undefined) query.set('status', status);
      if (limit !== undefined) query.set('limit', String(limit));
      const search = query.size === 0 ? '' : `?${query.toString()}`;
      return requestJson(invocation.connection, 'operator', 'GET', `/v1/admin/apps${search}`);
    }),
    TE.flatMapEither(
      answerWith(invocation, AppList, 'list of apps', ({ items }) =>
        table<AppSummary>(
          [
            { header: 'APP ID', cell: (app) => app.appId },
            { header: 'NAME', cell: (app) => app.name, maxWidth: 40 },
            { header: 'STATUS', cell: (app) => app.status },
            { header: 'SCORE', cell: (app) => app.score },
            { header: 'SUSPENDED UNTIL', cell: (app) => app.suspendedUntil },
            { header: 'REGISTERED', cell: (app) => app.registeredAt },
          ],
          items,
          'no apps',
        ),
      ),
    ),
  );

const show = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    requestJson(
      invocation.connection,
      'operator',
      'GET',
      `/v1/admin/apps/${segment(argument(invocation))}`,
    ),
    TE.flatMapEither(
      answerWith(invocation, AppView, 'app', (app) =>
        fields([
          ['appId', app.appId],
          ['name', app.name],
          ['status', app.status],
          ['score', app.score],
          ['suspendedUntil', app.suspendedUntil],
          [
            'complaints',
            `${app.complaints.open} open, ${app.complaints.upheld} upheld, ${app.complaints.dismissed} dismissed`,
          ],
          ['redirectUris', app.redirectUris.join(', ')],
          ['callbackUrl', app.callbackUrl],
          ['registeredAt', app.registeredAt],
        ]),
      ),
    ),
  );

const rotateSecret = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    requestJson(
      invocation.connection,
      'operator',
      'POST',
      `/v1/admin/apps/${segment(argument(invocation))}/secret`,
    ),
    TE.flatMapEither(
      answerWith(invocation, NewSecret, 'new secret', ({ appSecret }) =>
        secretBlock(
          `New secret of ${argument(invocation)} (the old one no longer works):`,
          appSecret,
        ),
      ),
    ),
  );

const reinstate = (invocation: Invocation): TE.TaskEither<Failure, Output> => {
  const note = text(invocation.values, 'note');
  return pipe(
    requestJson(
      invocation.connection,
      'operator',
      'POST',
      `/v1/admin/apps/${segment(argument(invocation))}/reinstate`,
      note === undefined ? {} : { note },
    ),
    TE.flatMapEither(
      answerWith(
        invocation,
        Reinstated,
        'answer',
        ({ status }) => `${argument(invocation)} is ${status}\n`,
      ),
    ),
  );
};

export const apps: CommandGroup = {
  name: 'apps',
  summary: 'register apps, see their standing, rotate secrets, lift suspensions',
  commands: [
    {
      name: 'create',
      summary: 'register an app; prints its secret, once',
      synopsis: '--name <name> --redirect-uri <url> [--redirect-uri <url>…] [--callback-url <url>]',
      options: {
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'callback-url': { type: 'string' },
      },
      args: [],
      run: create,
    },
    {
      name: 'list',
      summary: 'apps by reputation, lowest score first',
      synopsis: '[--sort score|name|registered] [--status active|suspended|banned] [--limit <n>]',
      options: {
        sort: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
      },
      args: [],
      run: list,
    },
    {
      name: 'show',
      summary: "an app's standing: status, score, complaints",
      synopsis: '<appId>',
      options: {},
      args: ['appId'],
      run: show,
    },
    {
      name: 'rotate-secret',
      summary: 'give an app a new secret; the old one stops working at once',
      synopsis: '<appId>',
      options: {},
      args: ['appId'],
      run: rotateSecret,
    },
    {
      name: 'reinstate',
      summary: 'lift a suspension or a ban',
      synopsis: '<appId> [--note <text>]',
      options: { note: { type: 'string' } },
      args: ['appId'],
      run: reinstate,
    },
  ],
};
