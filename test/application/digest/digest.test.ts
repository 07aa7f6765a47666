import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { DateTime } from 'luxon';
import { silentLogger } from '../../../adapters/logging/logger.js';
import { secureIds } from '../../../adapters/security/secureIds.js';
import { createCommandBus, type CommandBus } from '../../../application/commandBus.js';
import { bindingIdFor } from '../../../application/consent/bindingId.js';
import { dailyDigests, digestMessageId } from '../../../application/digest/dailyDigest.js';
import { digestChosenAt } from '../../../application/digest/digestChosenAt.js';
import {
  dueDigestOccurrence,
  isChosenBy,
  latestDigestOccurrence,
} from '../../../application/digest/digestSchedule.js';
import { digestText } from '../../../application/digest/digestText.js';
import { Scheduler } from '../../../application/scheduling/scheduler.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';
import type { Logger } from '../../../domain/shared/logger.js';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { allProjections } from '../../../projections/index.js';
import type { DigestApp } from '../../../projections/messages/digestQueries.js';
import { digestQueries } from '../../../projections/messages/digestQueries.js';
import { messageQueries } from '../../../projections/messages/messageQueries.js';
import {
  digestSubscriberQueries,
  recipientQueries,
} from '../../../projections/recipients/recipientQueries.js';
import { appQueries } from '../../../projections/apps/appQueries.js';
import { bindingQueries } from '../../../projections/bindings/bindingQueries.js';
import type { CreatedApp, Person } from '../../support/httpFixtures.js';
import { recordingLogger } from '../../support/logs.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  inboxOf,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
  type InboxItem,
  savePreferences,
} from '../../support/pipeline.js';
import { call, type TestServer } from '../../support/testServer.js';
import { unique } from '../../support/unique.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('daily digest: when it is due (application/digest/digestSchedule.ts)', () => {
  it('is the latest time of day at or before now in the zone: today once come, else yesterday', () => {
    // 08:00 in Shanghai is 00:00 UTC.
    expect(
      latestDigestOccurrence('08:00', 'Asia/Shanghai', '2027-05-10T00:00:00.000Z'),
    ).to.deep.equal({ date: '2027-05-10', at: '2027-05-10T00:00:00.000Z' });
    expect(
      latestDigestOccurrence('08:00', 'Asia/Shanghai', '2027-05-09T23:59:59.999Z'),
    ).to.deep.equal({ date: '2027-05-09', at: '2027-05-09T00:00:00.000Z' });
  });

  it('on the spring-forward day, a time in the gap comes at the first instant after it (Berlin 02:30 → 03:00)', () => {
    // 2027-03-28: clocks go from 02:00 CET to 03:00 CEST (01:00 UTC).
    const occurrence = latestDigestOccurrence('02:30', 'Europe/Berlin', '2027-03-28T01:00:00.000Z');
    expect(occurrence).to.deep.equal({ date: '2027-03-28', at: '2027-03-28T01:00:00.000Z' });
    expect(DateTime.fromISO(occurrence.at, { zone: 'Europe/Berlin' }).toFormat('HH:mm')).to.equal(
      '03:00',
    );
    // A minute before, the latest is the day before's, at 02:30 CET.
    expect(
      latestDigestOccurrence('02:30', 'Europe/Berlin', '2027-03-28T00:59:00.000Z').at,
    ).to.equal('2027-03-27T01:30:00.000Z');
    // On the fall-back day a time read twice comes at its first reading (02:30 CEST).
    expect(
      latestDigestOccurrence('02:30', 'Europe/Berlin', '2027-10-31T03:00:00.000Z').at,
    ).to.equal('2027-10-31T00:30:00.000Z');
  });

  it('is due for 12 hours after its time, not later, and not before the person chose it', () => {
    const at = '2027-05-10T06:00:00.000Z';
    expect(dueDigestOccurrence('06:00', 'UTC', at)?.at).to.equal(at);
    expect(dueDigestOccurrence('06:00', 'UTC', '2027-05-10T18:00:00.000Z')?.at).to.equal(at);
    expect(dueDigestOccurrence('06:00', 'UTC', '2027-05-10T18:00:00.001Z')).to.equal(undefined);
    const occurrence = { date: '2027-05-10', at };
    expect(isChosenBy(occurrence, '2027-05-10T05:59:00.000Z')).to.equal(true);
    expect(isChosenBy(occurrence, at)).to.equal(true);
    expect(isChosenBy(occurrence, '2027-05-10T06:00:00.001Z')).to.equal(false);
    expect(isChosenBy(occurrence, undefined)).to.equal(false);
  });
});

describe('daily digest: when the person chose it (application/digest/digestChosenAt.ts)', () => {
  const preferencesSet = (
    occurredAt: string,
    preferences: Record<string, unknown>,
    revision: number,
  ): RecordedEvent => ({
    id: `e${String(revision)}`,
    stream: 'recipient-rcp_1',
    revision,
    position: { commit: BigInt(revision), prepare: BigInt(revision) },
    type: 'RecipientPreferencesSet',
    data: {
      recipientId: 'rcp_1',
      preferences: { locale: null, timeZone: null, quietHours: null, digest: null, ...preferences },
    },
    metadata: {
      occurredAt,
      actor: { kind: 'recipient', id: 'rcp_1' },
      correlationId: 'c',
      causationId: 'c',
      schemaVersion: 1,
    },
  });
  const chosenAt = (events: RecordedEvent[]) =>
    digestChosenAt({ readStream: () => Promise.resolve(events) })('rcp_1');
  const digest = (at: string) => ({ digest: { at, deviceId: 'bark' } });

  it('is the time the digest was turned on or moved, not when other preferences changed', async () => {
    expect(await chosenAt([])).to.equal(undefined);
    const events = [
      preferencesSet('2027-01-01T00:00:00.000Z', { locale: 'en' }, 0),
      preferencesSet('2027-01-02T00:00:00.000Z', digest('08:00'), 1),
      // The language and the device do not move the digest.
      preferencesSet('2027-01-03T00:00:00.000Z', { ...digest('08:00'), locale: 'zh-CN' }, 2),
    ];
    expect(await chosenAt(events)).to.equal('2027-01-02T00:00:00.000Z');
    // A new time, or a new zone, does.
    events.push(preferencesSet('2027-01-04T00:00:00.000Z', digest('09:00'), 3));
    expect(await chosenAt(events)).to.equal('2027-01-04T00:00:00.000Z');
    events.push(
      preferencesSet('2027-01-05T00:00:00.000Z', { ...digest('09:00'), timeZone: 'Asia/Tokyo' }, 4),
    );
    expect(await chosenAt(events)).to.equal('2027-01-05T00:00:00.000Z');
    // Off is none; on again is a new choice.
    events.push(preferencesSet('2027-01-06T00:00:00.000Z', {}, 5));
    expect(await chosenAt(events)).to.equal(undefined);
    events.push(
      preferencesSet('2027-01-07T00:00:00.000Z', { ...digest('09:00'), timeZone: 'Asia/Tokyo' }, 6),
    );
    expect(await chosenAt(events)).to.equal('2027-01-07T00:00:00.000Z');
  });
});

describe('daily digest: its words (application/digest/digestText.ts)', () => {
  const app = (name: string, count: number, titles: (string | null)[]): DigestApp => ({
    appId: `app_${name}`,
    appName: name,
    count,
    newest: titles.map((title, index) => ({
      messageId: `msg_${name}${String(index)}`,
      title,
      body: `Body of ${name} ${String(index)}`,
      inboxAt: '2027-01-01T00:00:00.000Z',
    })),
  });
  const URL = 'https://tidings.example/inbox';

  it('lists each app with its count and newest titles, then the link, in English', () => {
    const text = digestText(
      'en',
      [
        app('Work orders', 4, ['Order 17 arrived', null, 'Order 17 departed']),
        app('Newsletter', 1, ['Weekly news']),
      ],
      URL,
    );
    expect(text.title).to.equal('Daily digest: 5 new messages');
    expect(text.body.split('\n')).to.deep.equal([
      'Work orders: 4 messages — Order 17 arrived, Body of Work orders 1, Order 17 departed',
      'Newsletter: 1 message — Weekly news',
      `See them all in your inbox: ${URL}`,
    ]);
    expect(digestText('en', [app('Solo', 1, ['Hi'])], URL).title).to.equal(
      'Daily digest: 1 new message',
    );
  });

  it('in Chinese for zh-CN', () => {
    const text = digestText('zh-CN', [app('工单', 3, ['订单已送达', '订单已出发'])], URL);
    expect(text.title).to.equal('每日摘要：3 条新消息');
    expect(text.body.split('\n')).to.deep.equal([
      '工单（3 条）：订单已送达、订单已出发',
      `在收件箱查看全部：${URL}`,
    ]);
  });

  it('keeps it short: 40 characters a title, 6 apps, then how many more', () => {
    const apps = Array.from({ length: 8 }, (_, index) =>
      app(`App ${String(index)}`, 1, [`${'x'.repeat(60)}\nsecond line`]),
    );
    const lines = digestText('en', apps, URL).body.split('\n');
    expect(lines).to.have.length(8);
    expect(lines[0]).to.equal(`App 0: 1 message — ${'x'.repeat(39)}…`);
    expect(lines[6]).to.equal('and 2 more apps');
    expect(digestText('zh-CN', apps, URL).body.split('\n')[6]).to.equal('另有 2 个应用的消息');
  });
});

/** A command bus on the server's store that returns once the server's read models include its events. */
const waitingBusOf = (server: TestServer): CommandBus => {
  const readModels = new Set(allProjections.map((projection) => projection.name));
  return createCommandBus({
    store: server.tidings.store,
    afterAppend: async (position) => {
      await Promise.all(
        server.tidings.runners
          .filter((runner) => readModels.has(runner.name))
          .map((runner) => runner.waitFor(position)),
      );
    },
  });
};

/** The digest step as composition/delivery.ts builds it, on the server's store and read models. */
const digestStepOf = (server: TestServer, logger: Logger = silentLogger) => {
  const { db, store, settings } = server.tidings;
  return dailyDigests({
    commands: waitingBusOf(server),
    apps: appQueries(db),
    bindings: bindingQueries(db),
    recipients: recipientQueries(db),
    messages: messageQueries(db),
    subscribers: digestSubscriberQueries(db),
    digests: digestQueries(db),
    chosenAt: digestChosenAt(store),
    ids: secureIds,
    systemAppRedirectUri: new URL('/', settings.publicUrl).href,
    publicUrl: settings.publicUrl,
    logger,
  });
};

/** A scheduler with the digest step and a clock the test sets; ticked by hand, never started. */
const schedulerWithClock = (
  server: TestServer,
  clock: { now: Date },
  logger: Logger = silentLogger,
): Scheduler =>
  new Scheduler({
    commands: waitingBusOf(server),
    messages: messageQueries(server.tidings.db),
    db: server.tidings.db,
    logger: silentLogger,
    now: () => clock.now,
    steps: [{ what: 'sending daily digests', run: digestStepOf(server, logger) }],
  });

/** The id of the person's first device (their Bark device). */
const deviceOf = async (server: TestServer, person: Person): Promise<string> => {
  const reply = await call<{ items: { deviceId: string }[] }>(
    server.base,
    'GET',
    '/v1/me/devices',
    {
      cookie: person.cookie,
    },
  );
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  const deviceId = reply.body.items[0]?.deviceId;
  if (deviceId === undefined) throw new Error('the person has no device');
  return deviceId;
};

/** `HH:MM` of `at` in `zone`. */
const clockOf = (at: Date, zone: string): string =>
  DateTime.fromJSDate(at, { zone }).toFormat('HH:mm');

/** The digests in the person's inbox. */
const digestsOf = async (server: TestServer, person: Person): Promise<InboxItem[]> =>
  (await inboxOf(server, person, '?limit=100')).filter(
    (item) => item.appId === SYSTEM_APP_ID && item.thread === 'tidings-digest',
  );

/** Sends through the API and waits until the message is in the person's inbox. */
const sendToInbox = async (
  server: TestServer,
  app: CreatedApp,
  to: BoundPerson,
  message: { title?: string; body: string },
): Promise<string> => {
  const messageId = await sendAccepted(server, app, { key: to.key, ...message });
  await waitUntil(
    () => inboxOf(server, to.person, '?limit=100'),
    (items) => items.some((item) => item.messageId === messageId),
    `${messageId} in the inbox`,
  );
  return messageId;
};

/**
 * A weak message that reached the person's inbox at `at` (a time of the test's choosing): the
 * submission, the approval and the inbox-only routing the pipeline would decide, in one append
 * at that time, so neither moderation nor the router acts on it again.
 */
const weakMessageAt = async (
  server: TestServer,
  app: CreatedApp,
  to: BoundPerson,
  at: string,
  title: string,
): Promise<string> => {
  const messageId = unique('msg_');
  const metadata = { now: at };
  const result = await waitingBusOf(server).execute(
    'message',
    messageId,
    [
      {
        type: 'SubmitMessage',
        data: {
          messageId,
          appId: app.appId,
          bindingId: to.bindingId,
          recipientId: to.person.recipientId,
          title,
          body: `${title} (body)`,
          binding: { status: 'active', level: 'weak', blocked: false },
          app: { status: 'active' },
        },
        metadata,
      },
      { type: 'ApproveMessage', data: { messageId, policy: 'test' }, metadata },
      {
        type: 'RouteMessage',
        data: { messageId, channels: ['inbox'], inboxOnly: 'weak' },
        metadata,
      },
    ],
    { commandId: unique('test-'), actor: { kind: 'operator', id: 'test' } },
  );
  if (E.isLeft(result)) throw new Error(result.left.message);
  return messageId;
};

/**
 * The daily digest end to end (issue 18, item 4): the scheduler's digest step on a real server,
 * with a clock the test sets; the server's own scheduler is stopped, so only the test's ticks
 * send digests.
 */
describe('daily digest: the scheduler step end to end (application/digest/dailyDigest.ts)', function () {
  this.timeout(60_000);
  let bark: BarkStandIn;
  let server: TestServer;
  let orders: CreatedApp;
  let news: CreatedApp;
  let alarms: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer();
    await server.tidings.scheduler.stop();
    orders = await createPipelineApp(server, 'Work orders');
    news = await createPipelineApp(server, 'Newsletter');
    alarms = await createPipelineApp(server, 'Alarms');
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  /** A person with a Bark device, bound weak to orders and news and strong to alarms. */
  const personWithApps = async () => {
    const atOrders = await bindPerson(server, bark, orders, { level: 'weak' });
    const { person } = atOrders;
    const atNews = await bindPerson(server, undefined, news, { person, level: 'weak' });
    const atAlarms = await bindPerson(server, undefined, alarms, { person, level: 'strong' });
    return { person, deviceKey: atOrders.deviceKey, atOrders, atNews, atAlarms };
  };

  describe('on the day, with messages through the pipeline', () => {
    // The digest's time: two hours from now, to the minute, so that what is sent now is in the
    // day before it and the preferences saved now were chosen before it.
    const occurrence = new Date(Math.floor((Date.now() + 2 * HOUR) / MINUTE) * MINUTE);
    const clock = { now: new Date(occurrence.getTime() - MINUTE) };
    let scheduler: Scheduler;
    let english: Awaited<ReturnType<typeof personWithApps>>;
    let other: BoundPerson;
    let chinese: BoundPerson;
    let onlyStrong: Awaited<ReturnType<typeof personWithApps>>;
    let testPushesOnly: BoundPerson;

    before(async () => {
      scheduler = schedulerWithClock(server, clock);
      // English (no language chosen), in UTC.
      english = await personWithApps();
      await savePreferences(server, english.person, {
        digest: {
          at: clockOf(occurrence, 'UTC'),
          deviceId: await deviceOf(server, english.person),
        },
      });
      for (const title of ['Order 17 dispatched', 'Order 17 departed']) {
        await sendToInbox(server, orders, english.atOrders, { title, body: `${title}.` });
      }
      await sendToInbox(server, orders, english.atOrders, {
        body: 'The driver is five minutes away from your door, please be ready',
      });
      await sendToInbox(server, orders, english.atOrders, { title: 'Order 17 arrived', body: '.' });
      await sendToInbox(server, news, english.atNews, { title: 'Weekly news', body: 'Read it' });
      await sendToInbox(server, alarms, english.atAlarms, { title: 'Smoke alarm', body: 'Now' });
      // Someone else's weak message from the same app.
      other = await bindPerson(server, bark, orders, { level: 'weak' });
      await sendToInbox(server, orders, other, { title: 'Not for them', body: 'no' });
      // Chinese, in Shanghai: the same instant, another wall clock.
      chinese = await bindPerson(server, bark, orders, { level: 'weak' });
      await savePreferences(server, chinese.person, {
        locale: 'zh-CN',
        timeZone: 'Asia/Shanghai',
        digest: {
          at: clockOf(occurrence, 'Asia/Shanghai'),
          deviceId: await deviceOf(server, chinese.person),
        },
      });
      await sendToInbox(server, orders, chinese, { title: '订单 17 已送达', body: '请签收' });
      // Only strong messages: nothing to sum up.
      onlyStrong = await personWithApps();
      await savePreferences(server, onlyStrong.person, {
        digest: {
          at: clockOf(occurrence, 'UTC'),
          deviceId: await deviceOf(server, onlyStrong.person),
        },
      });
      await sendToInbox(server, alarms, onlyStrong.atAlarms, { title: 'Smoke alarm', body: 'Now' });
      // Only the built-in app's own messages, made weak: they never count.
      testPushesOnly = await bindPerson(server, bark, orders, { level: 'strong' });
      const { person } = testPushesOnly;
      const first = await call(server.base, 'POST', '/v1/me/test-push', { cookie: person.cookie });
      expect(first.status, JSON.stringify(first.body)).to.equal(202);
      const systemBinding = bindingIdFor(secureIds, SYSTEM_APP_ID, person.recipientId);
      const weak = await call(server.base, 'PATCH', `/v1/me/apps/${systemBinding}`, {
        cookie: person.cookie,
        body: { level: 'weak' },
      });
      expect(weak.status, JSON.stringify(weak.body)).to.equal(200);
      const second = await call<{ messageId: string }>(server.base, 'POST', '/v1/me/test-push', {
        cookie: person.cookie,
      });
      expect(second.status, JSON.stringify(second.body)).to.equal(202);
      await waitUntil(
        () => Promise.resolve(messageQueries(server.tidings.db).byId(second.body.messageId)),
        (row) => row?.inbox_at !== null && row?.inbox_at !== undefined,
        'the weak test push in the inbox',
      );
      expect(messageQueries(server.tidings.db).byId(second.body.messageId)?.inbox_only).to.equal(
        'weak',
      );
      await savePreferences(server, person, {
        digest: { at: clockOf(occurrence, 'UTC'), deviceId: await deviceOf(server, person) },
      });
    });

    it('sends nothing before its time', async () => {
      await scheduler.tick();
      expect(await digestsOf(server, english.person)).to.deep.equal([]);
      expect(await digestsOf(server, chinese.person)).to.deep.equal([]);
    });

    it('sends one digest at its time, and no second one a few minutes later', async () => {
      clock.now = occurrence;
      await scheduler.tick();
      clock.now = new Date(occurrence.getTime() + 5 * MINUTE);
      await scheduler.tick();

      const digests = await digestsOf(server, english.person);
      expect(digests).to.have.length(1);
      const [digest] = digests;
      const date = occurrence.toISOString().slice(0, 10);
      expect(digest?.messageId).to.equal(
        digestMessageId(secureIds, english.person.recipientId, date),
      );
      const inbox = `${server.tidings.settings.publicUrl}/inbox`;
      expect(digest?.appName).to.equal('Tidings');
      expect(digest?.title).to.equal('Daily digest: 5 new messages');
      expect(digest?.url).to.equal(inbox);
      // The apps with the most first; the newest three of each, a body's start without a title.
      expect(digest?.body.split('\n')).to.deep.equal([
        'Work orders: 4 messages — Order 17 arrived, The driver is five minutes away from yo…, Order 17 departed',
        'Newsletter: 1 message — Weekly news',
        `See them all in your inbox: ${inbox}`,
      ]);
      // Strong messages and other people's are not in it.
      expect(digest?.body).to.not.include('Smoke alarm');
      expect(digest?.body).to.not.include('Not for them');

      const events = await messageEvents(server, digest?.messageId ?? '');
      const submitted = events.filter((event) => event.type === 'MessageSubmitted');
      expect(submitted).to.have.length(1);
      expect(submitted[0]?.data).to.include({
        appId: SYSTEM_APP_ID,
        recipientId: english.person.recipientId,
        thread: 'tidings-digest',
        level: 'passive',
        deviceId: await deviceOf(server, english.person),
        url: inbox,
      });
      expect(submitted[0]?.metadata.occurredAt).to.equal(occurrence.toISOString());

      // Pushed to the chosen device through the pipeline, once.
      const pushes = await waitUntil(
        () =>
          Promise.resolve(
            barkPushesFor(bark, english.deviceKey).filter((p) => p['group'] === 'tidings-digest'),
          ),
        (found) => found.length > 0,
        'the digest at the Bark stand-in',
      );
      expect(pushes).to.have.length(1);
      expect(pushes[0]).to.include({
        title: 'Daily digest: 5 new messages',
        level: 'passive',
        url: inbox,
      });
      expect(pushes[0]?.['body']).to.equal(digest?.body);
    });

    it('is in Chinese for a zh-CN person', async () => {
      const digests = await digestsOf(server, chinese.person);
      expect(digests).to.have.length(1);
      expect(digests[0]?.title).to.equal('每日摘要：1 条新消息');
      expect(digests[0]?.body.split('\n')).to.deep.equal([
        'Work orders（1 条）：订单 17 已送达',
        `在收件箱查看全部：${server.tidings.settings.publicUrl}/inbox`,
      ]);
      await waitUntil(
        () =>
          Promise.resolve(
            barkPushesFor(bark, chinese.deviceKey).filter((p) => p['group'] === 'tidings-digest'),
          ),
        (found) => found.length === 1,
        'the Chinese digest at the Bark stand-in',
      );
    });

    it('sends nothing to people without weak messages (strong ones and the built-in app’s do not count)', async () => {
      expect(await digestsOf(server, onlyStrong.person)).to.deep.equal([]);
      expect(await digestsOf(server, testPushesOnly.person)).to.deep.equal([]);
      expect(await digestsOf(server, other.person)).to.deep.equal([]);
      expect(
        barkPushesFor(bark, onlyStrong.deviceKey).filter((p) => p['group'] === 'tidings-digest'),
      ).to.deep.equal([]);
    });

    it('is not sent again by a new scheduler over the same store (a restart)', async () => {
      const restarted = schedulerWithClock(server, {
        now: new Date(occurrence.getTime() + 10 * MINUTE),
      });
      await restarted.tick();
      const digests = await digestsOf(server, english.person);
      expect(digests).to.have.length(1);
      const events = await messageEvents(server, digests[0]?.messageId ?? '');
      expect(events.filter((event) => event.type === 'MessageSubmitted')).to.have.length(1);
      expect(await digestsOf(server, chinese.person)).to.have.length(1);
    });
  });

  describe('on days of the test’s choosing (messages recorded at those times)', () => {
    it('fires at 03:00 local on the spring-forward day for 02:30 in Europe/Berlin, over the day before on the wall clock', async () => {
      const who = await bindPerson(server, bark, orders, { level: 'weak' });
      await savePreferences(server, who.person, {
        locale: 'en',
        timeZone: 'Europe/Berlin',
        digest: { at: '02:30', deviceId: await deviceOf(server, who.person) },
      });
      // The window runs from the day before's 02:30 (CET, 01:30 UTC) to 03:00 CEST (01:00 UTC):
      // 23 hours across the change, so each message is in one day's digest.
      await weakMessageAt(server, orders, who, '2027-03-27T01:29:59.000Z', 'Too early');
      await weakMessageAt(server, orders, who, '2027-03-27T01:30:00.000Z', 'First in');
      await weakMessageAt(server, orders, who, '2027-03-28T00:59:00.000Z', 'Last in');
      await weakMessageAt(server, orders, who, '2027-03-28T01:00:00.000Z', 'Too late');
      const clock = { now: new Date('2027-03-28T00:59:00.000Z') };
      const scheduler = schedulerWithClock(server, clock);

      await scheduler.tick();
      expect(await digestsOf(server, who.person)).to.deep.equal([]);

      clock.now = new Date('2027-03-28T01:00:00.000Z');
      await scheduler.tick();
      const digests = await digestsOf(server, who.person);
      expect(digests).to.have.length(1);
      expect(digests[0]?.messageId).to.equal(
        digestMessageId(secureIds, who.person.recipientId, '2027-03-28'),
      );
      expect(digests[0]?.title).to.equal('Daily digest: 2 new messages');
      expect(digests[0]?.body.split('\n')[0]).to.equal(
        'Work orders: 2 messages — Last in, First in',
      );
      const [submitted] = await messageEvents(server, digests[0]?.messageId ?? '');
      expect(submitted?.metadata.occurredAt).to.equal('2027-03-28T01:00:00.000Z');
    });

    it('goes out up to 12 hours late, not later, and not for a time that passed before it was chosen', async () => {
      const late = await bindPerson(server, bark, orders, { level: 'weak' });
      const tooLate = await bindPerson(server, bark, orders, { level: 'weak' });
      await savePreferences(server, late.person, {
        digest: { at: '08:00', deviceId: await deviceOf(server, late.person) },
      });
      await savePreferences(server, tooLate.person, {
        digest: { at: '06:00', deviceId: await deviceOf(server, tooLate.person) },
      });
      await weakMessageAt(server, orders, late, '2027-05-10T07:00:00.000Z', 'Before eight');
      await weakMessageAt(server, orders, tooLate, '2027-05-10T05:00:00.000Z', 'Before six');
      // The server is back at 18:01: ten hours after 08:00, twelve and a minute after 06:00.
      await schedulerWithClock(server, { now: new Date('2027-05-10T18:01:00.000Z') }).tick();
      expect(await digestsOf(server, late.person)).to.have.length(1);
      expect(await digestsOf(server, tooLate.person)).to.deep.equal([]);

      // Chosen now for a time an hour ago: not at once, even with something to say; tomorrow.
      const now = Date.now();
      const chosenLate = await bindPerson(server, bark, orders, { level: 'weak' });
      await weakMessageAt(
        server,
        orders,
        chosenLate,
        new Date(now - 3 * HOUR).toISOString(),
        'Before the choice',
      );
      await savePreferences(server, chosenLate.person, {
        digest: {
          at: clockOf(new Date(now - HOUR), 'UTC'),
          deviceId: await deviceOf(server, chosenLate.person),
        },
      });
      await weakMessageAt(
        server,
        orders,
        chosenLate,
        new Date(now + 30 * MINUTE).toISOString(),
        'After the choice',
      );
      const clock = { now: new Date(now + MINUTE) };
      const scheduler = schedulerWithClock(server, clock);
      await scheduler.tick();
      expect(await digestsOf(server, chosenLate.person)).to.deep.equal([]);
      clock.now = new Date(now + 23 * HOUR);
      await scheduler.tick();
      const digests = await digestsOf(server, chosenLate.person);
      expect(digests).to.have.length(1);
      expect(digests[0]?.body).to.include('After the choice').and.not.include('Before the choice');
    });

    it('goes with its device: removing the device turns the digest off', async () => {
      const who = await bindPerson(server, bark, orders, { level: 'weak' });
      await savePreferences(server, who.person, {
        digest: { at: '06:00', deviceId: await deviceOf(server, who.person) },
      });
      const removed = await call(server.base, 'DELETE', '/v1/me/devices/bark', {
        cookie: who.person.cookie,
      });
      expect(removed.status, JSON.stringify(removed.body)).to.equal(204);
      await weakMessageAt(server, orders, who, '2027-05-20T05:00:00.000Z', 'Nowhere to go');
      const { logger, entries } = recordingLogger();
      await schedulerWithClock(
        server,
        { now: new Date('2027-05-20T06:00:00.000Z') },
        logger,
      ).tick();
      expect(await digestsOf(server, who.person)).to.deep.equal([]);
      const preferences = await call<{ digest: unknown }>(
        server.base,
        'GET',
        '/v1/me/preferences',
        {
          cookie: who.person.cookie,
        },
      );
      expect(preferences.body.digest).to.equal(null);
      const errors = entries.filter((entry) => entry.level === 'error' || entry.level === 'warn');
      expect(errors).to.deep.equal([]);
    });
  });
});
