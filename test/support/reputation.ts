import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { createCommandBus, type CommandBus, type CommandOf } from '../../application/commandBus.js';
import { silentLogger } from '../../adapters/logging/logger.js';
import { Scheduler } from '../../application/scheduling/scheduler.js';
import type { AggregateName } from '../../domain/aggregates.js';
import type { PenaltyLadder } from '../../domain/reputation/penaltyLadder.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import { messageQueries } from '../../projections/messages/messageQueries.js';
import type { Person } from './httpFixtures.js';
import { call, type Reply, type TestServer } from './testServer.js';
import { unique } from './unique.js';
import { waitUntil } from './waitUntil.js';

/**
 * Helpers for the complaints, reputation and penalties tests (test/application/reputation):
 * complaints filed and decided over HTTP, the app's standing as the operator sees it, its event
 * stream, and a scheduler with a clock of the test's choosing. Binding people and sending them
 * messages are in pipeline.ts, shared with the other end-to-end tests.
 */

export type Category = 'spam' | 'fraud' | 'abuse' | 'other';
export type Severity = 'minor' | 'major' | 'severe';

/** `POST /v1/me/inbox/:messageId/complaints` as the person. */
export const fileComplaint = (
  server: TestServer,
  person: Person,
  messageId: string,
  body: Record<string, unknown> = { category: 'spam', reason: 'I never asked for this' },
): Promise<Reply<{ complaintId: string } & Record<string, unknown>>> =>
  call(server.base, 'POST', `/v1/me/inbox/${messageId}/complaints`, {
    cookie: person.cookie,
    body,
  });

/** Files a complaint and expects 201; returns its id. */
export const complain = async (
  server: TestServer,
  person: Person,
  messageId: string,
  category: Category = 'spam',
  reason = 'I never asked for this',
): Promise<string> => {
  const reply = await fileComplaint(server, person, messageId, { category, reason });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
  expect(reply.body.complaintId).to.be.a('string').and.not.equal('');
  return reply.body.complaintId;
};

/** `POST /v1/admin/complaints/:id/uphold` as the operator. */
export const uphold = (
  server: TestServer,
  complaintId: string,
  severity: Severity,
  note?: string,
): Promise<Reply> =>
  call(server.base, 'POST', `/v1/admin/complaints/${complaintId}/uphold`, {
    token: server.adminToken,
    body: { severity, ...(note === undefined ? {} : { note }) },
  });

/** Upholds and expects 200 `{ status: 'upheld' }`. */
export const upheld = async (
  server: TestServer,
  complaintId: string,
  severity: Severity,
  note?: string,
): Promise<void> => {
  const reply = await uphold(server, complaintId, severity, note);
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  expect(reply.body).to.deep.equal({ status: 'upheld' });
};

/** `GET /v1/admin/apps/:appId` as the operator sees it. */
export interface AdminAppView {
  readonly appId: string;
  readonly name: string;
  readonly status: 'active' | 'suspended' | 'banned';
  readonly score: number;
  readonly suspendedUntil?: string;
  readonly complaints: {
    readonly open: number;
    readonly upheld: number;
    readonly dismissed: number;
  };
  readonly [field: string]: unknown;
}

export const adminApp = async (server: TestServer, appId: string): Promise<AdminAppView> => {
  const reply = await call<AdminAppView>(server.base, 'GET', `/v1/admin/apps/${appId}`, {
    token: server.adminToken,
  });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  return reply.body;
};

/** Polls `GET /v1/admin/apps/:appId` until `done` holds. */
export const waitForApp = (
  server: TestServer,
  appId: string,
  done: (view: AdminAppView) => boolean,
  what: string,
): Promise<AdminAppView> => waitUntil(() => adminApp(server, appId), done, `app ${appId}: ${what}`);

/** The events of an app's stream, oldest first. */
export const appEvents = async (server: TestServer, appId: string): Promise<RecordedEvent[]> => [
  ...(await server.tidings.store.readStream(`app-${appId}`)),
];

/** The events of a complaint's stream, oldest first. */
export const complaintEvents = async (
  server: TestServer,
  complaintId: string,
): Promise<RecordedEvent[]> => [
  ...(await server.tidings.store.readStream(`complaint-${complaintId}`)),
];

/** The data of an event, for reading fields in assertions. */
export const dataOf = (event: RecordedEvent | undefined): Record<string, unknown> => {
  expect(event, 'the event').to.not.equal(undefined);
  return (event?.data ?? {}) as Record<string, unknown>;
};

/** A command bus on the server's own store, for writing through the command path in tests. */
export const commandBusOf = (server: TestServer): CommandBus =>
  createCommandBus({ store: server.tidings.store });

/** Runs one command through the real command handler as the operator `test`; expects success. */
export const runCommand = async <N extends AggregateName>(
  server: TestServer,
  aggregate: N,
  id: string,
  command: CommandOf<N>,
): Promise<void> => {
  const result = await commandBusOf(server).execute(aggregate, id, command, {
    commandId: unique('test-'),
    actor: { kind: 'operator', id: 'test' },
  });
  if (E.isLeft(result)) throw new Error(`${aggregate} ${id}: ${result.left.message}`);
};

/** The penalty ladder the server runs with (from its settings, as server.ts builds it). */
export const ladderOf = (server: TestServer): PenaltyLadder => {
  const { settings } = server.tidings;
  return {
    points: settings.penaltyPoints,
    suspendBelow: settings.suspendBelow,
    banBelow: settings.banBelow,
    maxSuspensions: settings.maxSuspensions,
    suspensionDays: settings.suspensionDays,
  };
};

/**
 * The real Scheduler on the server's read models and store, but with a clock the test sets: it
 * lifts suspensions (with the server's penalty ladder's score recovery) and releases scheduled
 * messages as if it were `at()`. Tick it by hand; it is never started.
 */
export const schedulerAt = (server: TestServer, at: () => Date): Scheduler => {
  const ladder = ladderOf(server);
  return new Scheduler({
    commands: commandBusOf(server),
    messages: messageQueries(server.tidings.db),
    db: server.tidings.db,
    logger: silentLogger,
    now: at,
    recoverTo: ladder.suspendBelow,
  });
};

export const DAY_MS = 86_400_000;
