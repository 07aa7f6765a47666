import { expect } from 'chai';
import { DateTime } from 'luxon';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { endQuietHours } from '../../application/quietHours/deferredPushes.js';
import { deliveryRouting } from '../../application/routing/deliveryRouting.js';
import { PushBudget } from '../../application/routing/pushBudget.js';
import { deferredPushQueries } from '../../projections/messages/deferredPushQueries.js';
import { silentLogger } from '../../adapters/logging/logger.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  inboxIds,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
  savePreferences,
} from '../support/pipeline.js';
import { commandBusOf } from '../support/reputation.js';
import { call, type TestServer } from '../support/testServer.js';

const ZONE = 'Asia/Shanghai';

/** `HH:MM` of now plus `minutes` in the zone. */
const clockIn = (zone: string, minutes: number): string =>
  DateTime.now().setZone(zone).plus({ minutes }).toFormat('HH:mm');

/** Quiet hours from an hour ago to two hours ahead in the zone: now is inside them. */
const quietNow = (allowTimeSensitive: boolean) => ({
  start: clockIn(ZONE, -60),
  end: clockIn(ZONE, 120),
  allowTimeSensitive,
});

/**
 * The scheduler's quiet-hours step on the server's store and read models, with a clock the test
 * sets (the server's own scheduler runs on the real clock, before the quiet hours end).
 */
const endQuietHoursAt = (server: TestServer, at: Date): Promise<void> =>
  endQuietHours({
    commands: commandBusOf(server),
    deferred: deferredPushQueries(server.tidings.db),
    routing: deliveryRouting({
      store: server.tidings.store,
      channels: server.tidings.channels,
      budget: new PushBudget(30, () => []),
    }),
    logger: silentLogger,
  })(at);

/** The `deferred` of a message's routing. */
const deferredOf = async (
  server: TestServer,
  messageId: string,
): Promise<{ channels: string[]; until: string } | undefined> => {
  const routed = (await messageEvents(server, messageId)).find((e) => e.type === 'MessageRouted');
  return (routed?.data as { deferred?: { channels: string[]; until: string } }).deferred;
};

/**
 * Quiet hours end to end (issue 18): during them no device push goes out and the message is in
 * the inbox at once; when they end, one push per app — a summary when several waited — unless
 * a time-sensitive one was let through; a recall or an unbinding meanwhile cancels; the waiting
 * pushes survive a restart.
 */
describe('pipeline: quiet hours', function () {
  this.timeout(60_000);
  let bark: BarkStandIn;
  let server: TestServer;
  let orders: CreatedApp;
  let clinic: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer();
    orders = await createPipelineApp(server, 'Work orders');
    clinic = await createPipelineApp(server, 'Clinic');
  });

  after(async () => {
    await server.stop();
    await bark.close();
  });

  it('defers pushes to the end, one per app, a summary for several, across a restart; a recall cancels', async () => {
    const who = await bindPerson(server, bark, orders, { level: 'strong' });
    // Both bindings push to the person's one Bark device.
    const atClinic = await bindPerson(server, undefined, clinic, {
      person: who.person,
      level: 'strong',
    });
    const quietHours = quietNow(true);
    await savePreferences(server, who.person, { timeZone: ZONE, locale: 'en', quietHours });

    const sent: string[] = [];
    for (const title of ['Dispatched', 'Departed', 'Arrived']) {
      sent.push(
        await sendAccepted(server, orders, { key: who.key, title, body: `Order ${title}` }),
      );
    }
    const clinicId = await sendAccepted(server, clinic, { key: atClinic.key, body: 'Appointment' });
    const urgent = await sendAccepted(server, orders, {
      key: who.key,
      title: 'Water leak',
      body: 'Shut the valve',
      level: 'timeSensitive',
    });

    // In the inbox at once, all five.
    await waitUntil(
      () => inboxIds(server, who.person),
      (ids) => [...sent, clinicId, urgent].every((id) => ids.includes(id)),
      'every message in the inbox',
    );
    // The time-sensitive one, let through, is the only push.
    await waitUntil(
      () => barkPushesFor(bark, who.deviceKey),
      (pushes) => pushes.length >= 1,
      'the time-sensitive push',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(barkPushesFor(bark, who.deviceKey).map((push) => push['body'])).to.deep.equal([
      'Shut the valve',
    ]);
    const deferred = await deferredOf(server, sent[0] ?? '');
    expect(deferred?.channels).to.have.length(1);
    const localEnd = DateTime.fromISO(deferred?.until ?? '', { zone: ZONE });
    expect(localEnd.toFormat('HH:mm'), 'deferred to the end of quiet hours').to.equal(
      quietHours.end,
    );
    expect(await deferredOf(server, urgent)).to.equal(undefined);

    // A recall during quiet hours takes its push away.
    const recalled = await call(server.base, 'DELETE', `/v1/messages/${sent[2] ?? ''}`, {
      token: orders.appSecret,
    });
    expect(recalled.status, JSON.stringify(recalled.body)).to.equal(200);

    // The waiting pushes are events and a read-model queue: a restart keeps them.
    await server.stop();
    server = await server.restart();

    const until = new Date(deferred?.until ?? '');
    await endQuietHoursAt(server, new Date(until.getTime() - 1_000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(barkPushesFor(bark, who.deviceKey), 'nothing before the end').to.have.length(1);

    await endQuietHoursAt(server, new Date(until.getTime() + 1_000));
    await waitUntil(
      () => barkPushesFor(bark, who.deviceKey),
      (pushes) => pushes.length >= 3,
      'one push per app after quiet hours',
    );
    // Ending them again (another tick, another node) pushes nothing more.
    await endQuietHoursAt(server, new Date(until.getTime() + 2_000));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const pushes = barkPushesFor(bark, who.deviceKey);
    expect(pushes, 'two more pushes, no burst').to.have.length(3);
    const after = pushes.slice(1);
    const summary = after.find((push) => push['title'] === 'Work orders');
    expect(summary?.['body']).to.equal('2 messages while you had quiet hours. Latest: Departed');
    expect(after.find((push) => push['body'] === 'Appointment')).to.not.equal(undefined);

    const types = async (id: string) => (await messageEvents(server, id)).map((e) => e.type);
    expect(await types(sent[0] ?? '')).to.include('MessagePushMerged');
    expect(await types(sent[1] ?? '')).to.include('MessagePushReleased');
    expect(await types(sent[2] ?? '')).to.not.include('MessagePushReleased');
    const released = (await messageEvents(server, sent[1] ?? '')).find(
      (e) => e.type === 'MessagePushReleased',
    );
    expect((released?.data as { summaryOf?: number }).summaryOf).to.equal(2);
  });

  it('drops the waiting push of an app the person unbound during quiet hours', async () => {
    const who: BoundPerson = await bindPerson(server, bark, orders, { level: 'strong' });
    await savePreferences(server, who.person, { timeZone: ZONE, quietHours: quietNow(false) });
    const messageId = await sendAccepted(server, orders, { key: who.key, body: 'Left behind' });
    // Not let through: allowTimeSensitive is off.
    const urgent = await sendAccepted(server, orders, {
      key: who.key,
      body: 'Urgent but quiet',
      level: 'timeSensitive',
    });
    await waitUntil(
      () => inboxIds(server, who.person),
      (ids) => ids.includes(messageId) && ids.includes(urgent),
      'in the inbox',
    );
    const deferred = await deferredOf(server, urgent);
    expect(deferred, 'a time-sensitive message waits when not allowed').to.not.equal(undefined);
    const unbound = await call(server.base, 'DELETE', `/v1/me/apps/${who.bindingId}`, {
      cookie: who.person.cookie,
    });
    expect(unbound.status, JSON.stringify(unbound.body)).to.be.within(200, 204);

    await endQuietHoursAt(server, new Date(Date.parse(deferred?.until ?? '') + 1_000));
    await waitUntil(
      async () => (await messageEvents(server, urgent)).map((e) => e.type),
      (types) => types.includes('MessagePushDropped'),
      'the waiting push dropped',
    );
    const dropped = (await messageEvents(server, urgent)).find(
      (e) => e.type === 'MessagePushDropped',
    );
    expect((dropped?.data as { reason: string }).reason).to.equal('revoked');
    expect((await messageEvents(server, messageId)).map((e) => e.type)).to.include(
      'MessagePushDropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(barkPushesFor(bark, who.deviceKey)).to.deep.equal([]);
  });
  it('drops the waiting push of a message the person read meanwhile, and pushes the other alone', async () => {
    const who = await bindPerson(server, bark, orders, { level: 'strong' });
    await savePreferences(server, who.person, { timeZone: ZONE, quietHours: quietNow(false) });
    const read = await sendAccepted(server, orders, { key: who.key, body: 'Seen at night' });
    const unread = await sendAccepted(server, orders, { key: who.key, body: 'Not seen' });
    await waitUntil(
      () => inboxIds(server, who.person),
      (ids) => ids.includes(read) && ids.includes(unread),
      'in the inbox',
    );
    const marked = await call(server.base, 'POST', `/v1/me/inbox/${read}/read`, {
      cookie: who.person.cookie,
    });
    expect(marked.status, JSON.stringify(marked.body)).to.be.within(200, 204);
    const deferred = await deferredOf(server, unread);
    await waitUntil(
      () =>
        server.tidings.db.prepare('SELECT read_at FROM messages WHERE message_id = ?').get(read),
      (row) => (row as { read_at: string | null } | undefined)?.read_at != null,
      'the read in the read model',
    );
    await endQuietHoursAt(server, new Date(Date.parse(deferred?.until ?? '') + 1_000));
    await waitUntil(
      () => barkPushesFor(bark, who.deviceKey),
      (pushes) => pushes.length >= 1,
      'the unread message pushed',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(barkPushesFor(bark, who.deviceKey).map((push) => push['body'])).to.deep.equal([
      'Not seen',
    ]);
    const dropped = (await messageEvents(server, read)).find(
      (e) => e.type === 'MessagePushDropped',
    );
    expect((dropped?.data as { reason: string } | undefined)?.reason).to.equal('seen');
  });
});
