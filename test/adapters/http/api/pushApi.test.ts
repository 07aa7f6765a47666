import { failAppends } from '../../../support/faults.js';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { aggregates } from '../../../../domain/aggregates.js';
import type { AppCommand } from '../../../../domain/app/appCommands.js';
import { handleCommand } from '../../../../domain/shared/commandHandler.js';
import { startBarkServer, type BarkStandIn } from '../../../../devtools/barkServer.js';
import {
  errorPaths,
  expectProblem,
  fromNow,
  type CreatedApp,
  type ProblemBody,
} from '../../../support/httpFixtures.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  getMessage,
  inboxOf,
  messageEventTypes,
  send,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForStatus,
  waitUntil,
  type BoundPerson,
} from '../../../support/pipeline.js';
import { call, type Reply, type TestServer } from '../../../support/testServer.js';

interface BatchResult {
  readonly index: number;
  readonly messageId?: string;
  readonly status?: string;
  readonly error?: ProblemBody;
}

/** The app-facing push API (docs/api.md "App"): idempotency, batches, limits, app status, validation. */
describe('pipeline: the push API', function () {
  this.timeout(30_000);

  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;
  let who: BoundPerson;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer();
    app = await createPipelineApp(server, 'API app');
    who = await bindPerson(server, bark, app, { level: 'strong' });
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  const batch = (
    messages: unknown[],
    headers: Record<string, string> = {},
  ): Promise<Reply<{ results: BatchResult[] }>> =>
    call(server.base, 'POST', '/v1/messages/batch', {
      token: app.appSecret,
      body: { messages },
      headers,
    });

  describe('Idempotency-Key', () => {
    it('answers a repeat with the same key and body with the first answer and sends one message', async () => {
      const person = await bindPerson(server, bark, app, { level: 'strong' });
      const body = { openid: person.openid, title: 'Invoice', body: 'Invoice #7 is ready' };
      const headers = { 'Idempotency-Key': 'invoice-7-ready' };
      const first = await send(server, app, body, headers);
      expect(first.status, JSON.stringify(first.body)).to.equal(202);
      const second = await send(server, app, body, headers);
      expect(second.status).to.equal(202);
      expect(second.body).to.deep.equal(first.body);
      expect(second.headers.get('idempotent-replayed')).to.equal('true');

      const messageId = first.body.messageId;
      await waitForBark(server, app, messageId, 'delivered');
      expect(
        (await messageEventTypes(server, messageId)).filter((type) => type === 'MessageSubmitted'),
      ).to.have.length(1);
      expect((await inboxOf(server, person.person)).map((i) => i.messageId)).to.deep.equal([
        messageId,
      ]);
      expect(barkPushesFor(bark, person.deviceKey)).to.have.length(1);
    });

    it('refuses the same key with another body: 422 idempotency_key_reused', async () => {
      const headers = { 'Idempotency-Key': 'reused-key-1' };
      const first = await send(server, app, { openid: who.openid, body: 'first' }, headers);
      expect(first.status).to.equal(202);
      expectProblem(
        await send(server, app, { openid: who.openid, body: 'second' }, headers),
        422,
        'idempotency_key_reused',
      );
    });

    /** Releases the claim on `key`, as the server does when a request fails (5xx). */
    const releaseClaim = (key: string): void => {
      server.tidings.db
        .prepare("UPDATE idempotency_keys SET state = 'abandoned' WHERE app_id = ? AND key = ?")
        .run(app.appId, key);
    };

    /** What the store keeps for `key` of the test app, aged or changed by hand below. */
    const keyRow = (key: string) =>
      server.tidings.db
        .prepare<[string, string], { state: string; first_at: string }>(
          'SELECT state, first_at FROM idempotency_keys WHERE app_id = ? AND key = ?',
        )
        .get(app.appId, key);

    it('submits the same message again when a retry takes over a claim whose answer was lost (delaySeconds too)', async () => {
      const person = await bindPerson(server, bark, app, { level: 'strong' });
      const body = { openid: person.openid, body: 'visit in an hour', delaySeconds: 3_600 };
      const headers = { 'Idempotency-Key': 'visit-reminder-1' };
      const first = await send(server, app, body, headers);
      expect(first.status, JSON.stringify(first.body)).to.equal(202);
      expect(first.body.status).to.equal('scheduled');
      const deliverAt = (await getMessage(server, app, first.body.messageId)).deliverAt;
      // As if the first attempt had written its message and then failed before answering: its
      // claim is released (what the server does on a 5xx), and the client retries a bit later.
      releaseClaim(headers['Idempotency-Key']);
      await waitUntil(
        () => Date.now(),
        (now) => now >= Date.parse(keyRow(headers['Idempotency-Key'])?.first_at ?? '') + 1_100,
        'a second to pass',
      );

      const retry = await send(server, app, body, headers);
      expect(retry.status, JSON.stringify(retry.body)).to.equal(202);
      expect(retry.headers.get('idempotent-replayed')).to.equal(null);
      expect(retry.body).to.deep.equal(first.body);
      const view = await getMessage(server, app, first.body.messageId);
      expect(view.deliverAt, 'the delay still counts from the first attempt').to.equal(deliverAt);
      expect(
        (await messageEventTypes(server, first.body.messageId)).filter(
          (type) => type === 'MessageSubmitted',
        ),
      ).to.have.length(1);
    });

    it('answers a retry made after its deliverAt has passed with the first answer, not 400', async () => {
      const person = await bindPerson(server, bark, app, { level: 'weak' });
      const deliverAt = new Date(Date.now() + 1_500).toISOString();
      const body = { openid: person.openid, body: 'soon', deliverAt };
      const headers = { 'Idempotency-Key': 'soon-1' };
      const first = await send(server, app, body, headers);
      expect(first.status, JSON.stringify(first.body)).to.equal(202);
      // The answer was lost (the claim released), and the client retries once deliverAt passed.
      releaseClaim(headers['Idempotency-Key']);
      await waitUntil(
        () => Date.now(),
        (now) => now > Date.parse(deliverAt) + 100,
        'deliverAt to pass',
      );
      const retry = await send(server, app, body, headers);
      expect(retry.status, JSON.stringify(retry.body)).to.equal(202);
      expect(retry.body.messageId).to.equal(first.body.messageId);
    });

    it('takes a key again once its 24 hours are over: another body is a new message', async () => {
      const headers = { 'Idempotency-Key': 'daily-digest' };
      const first = await send(server, app, { openid: who.openid, body: 'digest, day 1' }, headers);
      expect(first.status).to.equal(202);
      const dayAgo = new Date(Date.now() - 24 * 3_600_000 - 60_000).toISOString();
      server.tidings.db
        .prepare(
          'UPDATE idempotency_keys SET created_at = ?, first_at = ? WHERE app_id = ? AND key = ?',
        )
        .run(dayAgo, dayAgo, app.appId, headers['Idempotency-Key']);

      const next = await send(server, app, { openid: who.openid, body: 'digest, day 2' }, headers);
      expect(next.status, JSON.stringify(next.body)).to.equal(202);
      expect(next.body.messageId).to.not.equal(first.body.messageId);
      expect(next.headers.get('idempotent-replayed')).to.equal(null);
    });
  });

  describe('batch', () => {
    it('answers each item on its own and delivers the good ones', async () => {
      const person = await bindPerson(server, bark, app, { level: 'strong' });
      const reply = await batch([
        { openid: person.openid, body: 'batch good 0' },
        { openid: person.openid, body: 'typo', colour: 'red' },
        { openid: person.openid, title: 'no body' },
        { openid: 'nobody-has-this-openid', body: 'unknown person' },
        { openid: person.openid, body: 'batch good 4' },
      ]);
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      const { results } = reply.body;
      expect(results.map((r) => r.index)).to.deep.equal([0, 1, 2, 3, 4]);

      expect(results[0]).to.deep.include({ status: 'accepted' });
      expect(results[4]).to.deep.include({ status: 'accepted' });
      expect(results[1]?.error?.code).to.equal('validation_failed');
      expect(errorPaths(results[1]?.error as ProblemBody).join(' ')).to.include('colour');
      expect(results[2]?.error?.code).to.equal('validation_failed');
      expect(errorPaths(results[2]?.error as ProblemBody)).to.include('/messages/2/body');
      expect(results[3]?.error?.code).to.equal('not_found');
      for (const bad of [1, 2, 3]) expect(results[bad]?.messageId).to.equal(undefined);

      const good = [results[0]?.messageId ?? '', results[4]?.messageId ?? ''];
      for (const id of good) await waitForBark(server, app, id, 'delivered');
      const inbox = await inboxOf(server, person.person);
      expect(inbox.map((i) => i.body).sort()).to.deep.equal(['batch good 0', 'batch good 4']);
      expect(
        barkPushesFor(bark, person.deviceKey)
          .map((p) => p['body'])
          .sort(),
      ).to.deep.equal(['batch good 0', 'batch good 4']);
    });

    it('takes an Idempotency-Key on a batch whose item is nested 100,000 levels deep', async () => {
      // The items are any JSON until each is decoded, so the key's body hash sees the nesting
      // (found by the API fuzz suite: a recursive hash overflowed the stack, a 500).
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const send = (): Promise<Reply<{ results: BatchResult[] }>> =>
        call(server.base, 'POST', '/v1/messages/batch', {
          token: app.appSecret,
          rawBody: `{"messages":[${deep}]}`,
          headers: { 'Idempotency-Key': 'deeply-nested-batch' },
        });
      const reply = await send();
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      expect(reply.body.results[0]?.error?.code).to.equal('validation_failed');
      const again = await send();
      expect(again.status).to.equal(200);
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
    });

    it('answers an item the store fails on with internal_error and takes the others', async () => {
      const person = await bindPerson(server, bark, app, { level: 'weak' });
      // The store refuses the append of one message.
      const restore = failAppends(server.tidings.store, (events) =>
        events.some((event) => (event.data as { body?: unknown }).body === 'disk on fire'),
      );
      let reply: Reply<{ results: BatchResult[] }>;
      try {
        reply = await batch(
          [
            { openid: person.openid, body: 'before the fire' },
            { openid: person.openid, body: 'disk on fire' },
            { openid: person.openid, body: 'after the fire' },
          ],
          { 'Idempotency-Key': 'batch-with-a-failure' },
        );
      } finally {
        restore();
      }
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      const [before, failed, after] = reply.body.results;
      expect(before?.status).to.equal('accepted');
      expect(after?.status).to.equal('accepted');
      expect(failed?.error?.code).to.equal('internal_error');
      expect(failed?.error?.status).to.equal(500);
      expect(JSON.stringify(failed)).to.not.include('disk I/O');

      // Not kept for the key: sent again, the failed item goes through and the others answer
      // with the messages they already are.
      const again = await batch(
        [
          { openid: person.openid, body: 'before the fire' },
          { openid: person.openid, body: 'disk on fire' },
          { openid: person.openid, body: 'after the fire' },
        ],
        { 'Idempotency-Key': 'batch-with-a-failure' },
      );
      expect(again.body.results.map((r) => r.status)).to.deep.equal([
        'accepted',
        'accepted',
        'accepted',
      ]);
      expect(again.body.results[0]?.messageId).to.equal(before?.messageId);
      expect(again.body.results[2]?.messageId).to.equal(after?.messageId);
      const inbox = await waitUntil(
        () => inboxOf(server, person.person),
        (found) => found.length === 3,
        'three messages in the inbox',
      );
      expect(inbox.map((i) => i.body).sort()).to.deep.equal([
        'after the fire',
        'before the fire',
        'disk on fire',
      ]);
    });

    it('names the item in the paths of cross-field problems', async () => {
      const reply = await batch([
        { openid: who.openid, body: 'fine' },
        { body: 'to nobody' },
        { openid: who.openid, body: 'too late', deliverAt: '2020-01-01T00:00:00Z' },
        { openid: who.openid, body: 'no such day', deliverAt: '2031-02-30T09:00:00Z' },
        { openid: who.openid, body: 'too far', delaySeconds: 40 * 86_400 },
      ]);
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      const [, noTarget, past, noDay, far] = reply.body.results;
      expect(errorPaths(noTarget?.error as ProblemBody)).to.deep.equal(['/messages/1/key']);
      expect(errorPaths(past?.error as ProblemBody)).to.deep.equal(['/messages/2/deliverAt']);
      expect(errorPaths(noDay?.error as ProblemBody)).to.deep.equal(['/messages/3/deliverAt']);
      expect(errorPaths(far?.error as ProblemBody)).to.deep.equal(['/messages/4/delaySeconds']);
      expect(far?.error?.detail).to.include('must be at most 2592000');
    });

    it('refuses more than 500 items: 400', async () => {
      const items = Array.from({ length: 501 }, (_, i) => ({ openid: who.openid, body: `${i}` }));
      const problem = expectProblem(await batch(items), 400, 'validation_failed');
      expect(errorPaths(problem)).to.include('/messages');
    });

    it('accepts a batch body over 64 KiB but refuses one over 1 MiB: 413', async () => {
      const person = await bindPerson(server, bark, app, { level: 'weak' });
      const big = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          openid: person.openid,
          body: `${i} ${'x'.repeat(3_990)}`,
        }));
      const overSmall = big(20);
      expect(JSON.stringify({ messages: overSmall }).length).to.be.greaterThan(64 * 1024);
      const fine = await batch(overSmall);
      expect(fine.status, JSON.stringify(fine.body).slice(0, 500)).to.equal(200);
      // Every one of the 20, not just whatever came back (an empty list passes `every`).
      expect(fine.body.results.map((r) => r.status)).to.deep.equal(
        Array<string>(overSmall.length).fill('accepted'),
      );

      // Express routes /v1/messages/batch/ (and any letter case) to the same handler.
      const slash = await call<{ results: BatchResult[] }>(
        server.base,
        'POST',
        '/v1/messages/batch/',
        { token: app.appSecret, body: { messages: overSmall } },
      );
      expect(slash.status, JSON.stringify(slash.body).slice(0, 300)).to.equal(200);

      const overLimit = big(300);
      expect(JSON.stringify({ messages: overLimit }).length).to.be.greaterThan(1024 * 1024);
      const refused = expectProblem(await batch(overLimit), 413, 'payload_too_large');
      expect(refused.detail).to.include(String(1024 * 1024));
    });
  });

  describe('per-app rate limit', () => {
    let limited: TestServer;
    let limitedApp: CreatedApp;
    let person: BoundPerson;

    before(async () => {
      limited = await startPipelineServer({
        env: { TIDINGS_APP_RATE_BURST: '3', TIDINGS_APP_RATE_PER_SECOND: '1' },
      });
      limitedApp = await createPipelineApp(limited, 'Busy app');
      person = await bindPerson(limited, bark, limitedApp, { level: 'weak' });
    });

    after(async () => {
      await limited.dispose();
    });

    it('answers the 4th quick message 429 rate_limited with Retry-After', async () => {
      // Sent together, so the bucket (3, then 1 a second) has no time to refill in between.
      const replies = await Promise.all(
        [1, 2, 3, 4].map((n) => send(limited, limitedApp, { openid: person.openid, body: `${n}` })),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).to.deep.equal([202, 202, 202, 429]);
      const refused = replies.find((r) => r.status === 429);
      if (refused === undefined) throw new Error('no 429');
      expectProblem(refused, 429, 'rate_limited');
      expect(refused.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
    });

    it('answers a batch over the limit item by item with Retry-After, and does not keep that answer for its key', async () => {
      const other = await createPipelineApp(limited, 'Batch app');
      const them = await bindPerson(limited, bark, other, { level: 'weak' });
      const items = [1, 2, 3, 4, 5].map((n) => ({ openid: them.openid, body: `item ${n}` }));
      const headers = { 'Idempotency-Key': 'batch-over-limit' };
      const sendBatch = () =>
        call<{ results: BatchResult[] }>(limited.base, 'POST', '/v1/messages/batch', {
          token: other.appSecret,
          body: { messages: items },
          headers,
        });
      const first = await sendBatch();
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      const codes = first.body.results.map((r) => r.error?.code ?? r.status);
      expect(codes).to.deep.equal([
        'accepted',
        'accepted',
        'accepted',
        'rate_limited',
        'rate_limited',
      ]);
      expect(first.headers.get('retry-after')).to.match(/^[1-9]\d*$/);

      // Sent again with its key once the bucket has refilled: not a replay of "try again" — the
      // items that went through answer with the same messages, the others now go through.
      // Two tokens (the bucket refills one a second); the three items that went through are
      // repeats, which take none.
      const refilled = Date.now() + 2_100;
      await waitUntil(
        () => Date.now(),
        (now) => now >= refilled,
        'the bucket to refill',
      );
      const second = await sendBatch();
      expect(second.status, JSON.stringify(second.body)).to.equal(200);
      expect(second.headers.get('idempotent-replayed')).to.equal(null);
      expect(second.body.results.map((r) => r.status)).to.deep.equal([
        'accepted',
        'accepted',
        'accepted',
        'accepted',
        'accepted',
      ]);
      expect(second.body.results.slice(0, 3).map((r) => r.messageId)).to.deep.equal(
        first.body.results.slice(0, 3).map((r) => r.messageId),
      );
      const inbox = await waitUntil(
        () => inboxOf(limited, them.person),
        (found) => found.length === 5,
        'five messages in the inbox',
      );
      expect(inbox.map((i) => i.body).sort()).to.deep.equal(items.map((i) => i.body).sort());
    });

    it('refuses a whole batch 429 with Retry-After when not one item can go through', async () => {
      const other = await createPipelineApp(limited, 'Drained app');
      const them = await bindPerson(limited, bark, other, { level: 'weak' });
      const items = [1, 2, 3, 4].map((n) => ({ openid: them.openid, body: `drain ${n}` }));
      const drain = await call<{ results: BatchResult[] }>(
        limited.base,
        'POST',
        '/v1/messages/batch',
        { token: other.appSecret, body: { messages: items } },
      );
      expect(drain.status).to.equal(200);
      const refused = await call(limited.base, 'POST', '/v1/messages/batch', {
        token: other.appSecret,
        body: { messages: items },
      });
      expectProblem(refused, 429, 'rate_limited');
      expect(refused.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
    });
  });

  describe('suspended and banned apps', () => {
    /** Issues an App command through the command path and waits for the apps read model. */
    const appCommand = async (appId: string, command: AppCommand): Promise<void> => {
      const { store, runners } = server.tidings;
      const result = await handleCommand(
        store,
        { decider: aggregates.app.decider, eventCodec: aggregates.app.eventCodec },
        aggregates.app.streamName(appId),
        command,
        { commandId: `test:${command.type}:${appId}`, actor: { kind: 'operator', id: 'test' } },
      );
      if (E.isLeft(result)) throw new Error(JSON.stringify(result.left));
      const position = result.right.position;
      if (position === undefined) throw new Error('the command appended nothing');
      const apps = runners.find((runner) => runner.name === 'apps');
      if (apps === undefined) throw new Error('no apps read model');
      await apps.waitFor(position);
    };

    it('a suspended app gets 403 app_suspended, and can send again once reinstated', async () => {
      const suspended = await createPipelineApp(server, 'Suspended app');
      const person = await bindPerson(server, bark, suspended, { level: 'strong' });
      await appCommand(suspended.appId, {
        type: 'SuspendApp',
        data: {
          appId: suspended.appId,
          until: fromNow(3_600_000),
          reason: 'operator',
          complaintIds: [],
        },
        metadata: { now: new Date().toISOString() },
      });
      const shown = await call<{ status: string }>(
        server.base,
        'GET',
        `/v1/admin/apps/${suspended.appId}`,
        { token: server.adminToken },
      );
      expect(shown.body.status).to.equal('suspended');

      expectProblem(
        await send(server, suspended, { openid: person.openid, body: 'while suspended' }),
        403,
        'app_suspended',
      );
      expect(await inboxOf(server, person.person)).to.deep.equal([]);

      const reinstated = await call(
        server.base,
        'POST',
        `/v1/admin/apps/${suspended.appId}/reinstate`,
        { token: server.adminToken, body: {} },
      );
      expect(reinstated.status, JSON.stringify(reinstated.body)).to.equal(200);
      const id = await sendAccepted(server, suspended, { openid: person.openid, body: 'back' });
      await waitForStatus(server, suspended, id, 'delivered');
    });

    it('a banned app gets 403 app_banned', async () => {
      const banned = await createPipelineApp(server, 'Banned app');
      const person = await bindPerson(server, bark, banned, { level: 'strong' });
      await appCommand(banned.appId, {
        type: 'BanApp',
        data: { appId: banned.appId, reason: 'operator', complaintIds: [] },
        metadata: { now: new Date().toISOString() },
      });
      expectProblem(
        await send(server, banned, { openid: person.openid, body: 'while banned' }),
        403,
        'app_banned',
      );
      expectProblem(
        await send(server, banned, { key: person.key, body: 'while banned' }),
        403,
        'app_banned',
      );
      expect(await inboxOf(server, person.person)).to.deep.equal([]);
    });
  });

  describe('ownership and validation', () => {
    it("answers GET and DELETE of another app's message with 404", async () => {
      const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'mine' });
      const other = await createPipelineApp(server, 'Nosy app');
      expectProblem(
        await call(server.base, 'GET', `/v1/messages/${messageId}`, { token: other.appSecret }),
        404,
        'not_found',
      );
      expectProblem(
        await call(server.base, 'DELETE', `/v1/messages/${messageId}`, {
          token: other.appSecret,
        }),
        404,
        'not_found',
      );
      expectProblem(
        await call(server.base, 'GET', '/v1/messages/msg_does_not_exist', {
          token: app.appSecret,
        }),
        404,
        'not_found',
      );
      // The owner still sees it, untouched.
      const view = await waitUntil(
        () => getMessage(server, app, messageId),
        (v) => v.status === 'delivered',
        'the message to be delivered',
      );
      expect(view.messageId).to.equal(messageId);
    });

    it("refuses another app's binding key like an unknown one: 404", async () => {
      const other = await createPipelineApp(server, 'Key thief');
      expectProblem(await send(server, other, { key: who.key, body: 'hi' }), 404, 'not_found');
    });

    const invalid: readonly [string, Record<string, unknown>, string][] = [
      ['a title over 256 characters', { title: 't'.repeat(257) }, '/title'],
      ['a body over 4000 characters', { body: 'b'.repeat(4_001) }, '/body'],
      ['an ftp url', { url: 'ftp://files.example/report.pdf' }, '/url'],
      ['an unknown field', { priority: 'high' }, '/priority'],
      ['a critical level', { level: 'critical' }, '/level'],
    ];
    for (const [what, fields, path] of invalid) {
      it(`refuses ${what}: 400 naming ${path}`, async () => {
        const reply = await send(server, app, { openid: who.openid, body: 'ok', ...fields });
        expect(errorPaths(expectProblem(reply, 400, 'validation_failed'))).to.include(path);
      });
    }

    it('accepts the limits themselves: a 256-character title and a 4000-character body', async () => {
      const id = await sendAccepted(server, app, {
        openid: who.openid,
        title: 't'.repeat(256),
        body: 'b'.repeat(4_000),
        url: 'https://orders.example/4711',
      });
      expect((await getMessage(server, app, id)).messageId).to.equal(id);
    });

    it('refuses a message with both key and openid, or neither', async () => {
      const both = await send(server, app, { key: who.key, openid: who.openid, body: 'x' });
      expect(errorPaths(expectProblem(both, 400, 'validation_failed'))).to.include('/key');
      const neither = await send(server, app, { body: 'x' });
      expect(errorPaths(expectProblem(neither, 400, 'validation_failed'))).to.include('/key');
    });
  });
});
