import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { startNtfyServer, type NtfyStandIn } from '../../devtools/ntfyServer.js';
import { startSmsGateway, type SmsGatewayStandIn } from '../../devtools/smsGateway.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../devtools/webhookReceiver.js';
import {
  expectProblem,
  registerPerson,
  type CreatedApp,
  type Person,
} from '../support/httpFixtures.js';
import {
  barkBodiesFor,
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  deviceRef,
  inboxIds,
  sendAccepted,
  SHORT_RETRY,
  waitForMessage,
  waitUntil,
  type BoundPerson,
  type MessageView,
} from '../support/pipeline.js';
import { pluginFolder, type PluginFolder } from '../support/pluginFolder.js';
import { header, parseRawMail } from '../support/rawMail.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtpTestServer.js';
import { call, startTestServer, type Reply, type TestServer } from '../support/testServer.js';
import { unique } from '../support/unique.js';

/** A device as `GET /v1/me/devices` and `POST /v1/me/devices` show it. */
interface Device {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly broken: string | null;
  readonly createdAt: string;
}

/** The `relay` plugin: posts each message, and each recall, as JSON to its `endpoint`. */
const RELAY_PLUGIN = `export default {
  kind: 'relay',
  name: 'Relay',
  settings: [
    { name: 'endpoint', description: 'where to post', type: 'url', secret: false, required: true },
    { name: 'token', description: 'access token', type: 'string', secret: true, required: true },
  ],
  render(message, settings) {
    return {
      url: settings.endpoint,
      token: settings.token,
      event: { messageId: message.messageId, appName: message.appName, body: message.body },
    };
  },
  async send(rendered, context) {
    const answer = await context.http.request({
      method: 'POST',
      url: rendered.url,
      headers: { authorization: 'Bearer ' + rendered.token, 'content-type': 'application/json' },
      body: JSON.stringify(rendered.event),
    });
    if (answer.kind === 'answered' && answer.status >= 200 && answer.status < 300) {
      return { kind: 'delivered' };
    }
    return { kind: 'failed', reason: 'relay answered ' + (answer.kind === 'answered' ? answer.status : answer.kind) };
  },
};
`;

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const SMS_TOKEN = 'gateway-token-0123456789';
const FROM = 'tidings@tidings.example';

/**
 * Every channel of issue 13 end to end over HTTP, each against a real local server speaking its
 * protocol on 127.0.0.1: the Bark and ntfy stand-ins, an `smtp-server` for email, the SMS gateway
 * stand-in, a webhook receiver, and a plugin loaded from a folder outside the repository. One
 * Tidings serves the whole file; each test has its own person, so their devices never overlap.
 *
 * The SMTP server offers no STARTTLS, so the server's email channel (no credentials in the URL,
 * hence STARTTLS only when offered) sends in plaintext on loopback: TLS is emailSend.test.ts's
 * subject, and this needs no test hook in the server's production path.
 */
describe('channels end to end: Bark, ntfy, email, SMS, webhook and a plugin over HTTP', () => {
  let server: TestServer;
  let bark: BarkStandIn;
  let ntfy: NtfyStandIn;
  /** An ntfy server that lets no anonymous caller write (ntfy's `auth-default-access: deny-all`). */
  let lockedNtfy: NtfyStandIn;
  let smtp: SmtpTestServer;
  let sms: SmsGatewayStandIn;
  let hooks: WebhookReceiver;
  /** Where the relay plugin posts. */
  let relayEndpoint: WebhookReceiver;
  let plugins: PluginFolder;
  let app: CreatedApp;

  const api = <T>(method: string, path: string, cookie: string, body?: unknown) =>
    call<T>(server.base, method, path, { cookie, ...(body === undefined ? {} : { body }) });
  const addDevice = async (
    person: Person,
    kind: string,
    settings: Record<string, unknown>,
  ): Promise<Reply<Device & { secret?: string }>> => {
    const reply = await api<Device & { secret?: string }>('POST', '/v1/me/devices', person.cookie, {
      kind,
      name: `My ${kind}`,
      settings,
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return reply;
  };
  const devicesOf = async (person: Person): Promise<Device[]> =>
    (await api<{ items: Device[] }>('GET', '/v1/me/devices', person.cookie)).body.items;
  const mailsTo = (address: string) =>
    smtp.received.filter((mail) => mail.to.includes(address)).map((mail) => parseRawMail(mail.raw));
  const settled = (view: MessageView): boolean =>
    view.deliveries.every((d) => d.status === 'delivered' || d.status === 'abandoned');
  /**
   * Each delivery as [channel, device id, status]. The app sees an opaque reference per device
   * (`device`), never the id: it is turned back into the id of the `bindingId` binding's device it
   * stands for, so an unknown or missing reference shows as itself and fails the comparison.
   */
  const summary = (
    view: MessageView,
    bindingId: string,
    deviceIds: readonly string[],
  ): string[][] => {
    const idOf = new Map(deviceIds.map((id) => [deviceRef(bindingId, id), id]));
    return view.deliveries
      .map((d) => {
        expect(d.deviceId, 'an app never sees a device id').to.equal(undefined);
        const device = d.device === undefined ? '-' : (idOf.get(d.device) ?? `ref:${d.device}`);
        return [d.channel, device, d.status];
      })
      .sort();
  };

  /** One person's devices on Bark, ntfy and email, each with its address on the stand-in. */
  interface ThreeDevices {
    readonly who: BoundPerson;
    readonly bark: Device;
    readonly barkKey: string;
    readonly ntfy: Device;
    readonly topic: string;
    readonly email: Device;
    readonly address: string;
  }

  /** {@link summary} for the three devices of `one`. */
  const summaryFor = (view: MessageView, one: ThreeDevices): string[][] =>
    summary(view, one.who.bindingId, [one.bark.deviceId, one.ntfy.deviceId, one.email.deviceId]);

  /** A person with a Bark, an ntfy and an email device and a binding at `level`. */
  const threeDevices = async (
    level: 'strong' | 'weak' = 'strong',
    options: { knownBark?: boolean; ntfyUrl?: string } = {},
  ): Promise<ThreeDevices> => {
    const person = await registerPerson(server);
    const barkKey = unique('Key');
    if (options.knownBark !== false) bark.addDevice(barkKey);
    const topic = unique('topic_').replace(/[^-_A-Za-z0-9]/g, '_');
    const address = `${unique('person')
      .replace(/[^A-Za-z0-9]/g, '')
      .toLowerCase()}@mail.example`;
    const barkDevice = await addDevice(person, 'bark', { serverUrl: bark.url, deviceKey: barkKey });
    const ntfyDevice = await addDevice(person, 'ntfy', {
      serverUrl: options.ntfyUrl ?? ntfy.url,
      topic,
    });
    const emailDevice = await addDevice(person, 'email', { address });
    const who = await bindPerson(server, undefined, app, { person, level });
    return {
      who,
      bark: barkDevice.body,
      barkKey,
      ntfy: ntfyDevice.body,
      topic,
      email: emailDevice.body,
      address,
    };
  };

  before(async () => {
    [bark, ntfy, lockedNtfy, smtp, hooks, relayEndpoint] = await Promise.all([
      startBarkServer(),
      startNtfyServer(),
      startNtfyServer({ auth: { defaultAccess: 'deny-all', tokens: {} } }),
      startSmtpTestServer({ noStartTls: true }),
      startWebhookReceiver(),
      startWebhookReceiver(),
    ]);
    sms = await startSmsGateway({ token: SMS_TOKEN });
    plugins = pluginFolder();
    const relay = plugins.write('relay/relay.mjs', RELAY_PLUGIN);
    expect(relay.startsWith(projectRoot), 'the plugin is outside the repository').to.equal(false);
    server = await startTestServer({
      env: {
        TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        TIDINGS_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        TIDINGS_SMTP_FROM: `Tidings <${FROM}>`,
        TIDINGS_SMS_GATEWAY_URL: sms.url,
        TIDINGS_SMS_GATEWAY_TOKEN: SMS_TOKEN,
        TIDINGS_CHANNEL_PLUGINS: relay,
      },
      retryPolicy: { ...SHORT_RETRY, maxAttempts: 2 },
    });
    app = await createPipelineApp(server, 'Repairs Desk');
  });
  after(async () => {
    await server.dispose();
    await Promise.all([
      bark.close(),
      ntfy.close(),
      lockedNtfy.close(),
      smtp.close(),
      sms.close(),
      hooks.close(),
      relayEndpoint.close(),
    ]);
    plugins.dispose();
  });

  it('a strong message is delivered once on Bark, ntfy and email; a weak one on none', async () => {
    const one = await threeDevices();
    const messageId = await sendAccepted(server, app, {
      openid: one.who.openid,
      title: 'Order 42',
      body: 'Technician dispatched',
    });
    const view = await waitForMessage(
      server,
      app,
      messageId,
      (v) => v.deliveries.filter((d) => d.status === 'delivered').length === 4,
      'four deliveries',
    );
    expect(summaryFor(view, one)).to.deep.equal(
      [
        ['bark', one.bark.deviceId, 'delivered'],
        ['email', one.email.deviceId, 'delivered'],
        ['inbox', '-', 'delivered'],
        ['ntfy', one.ntfy.deviceId, 'delivered'],
      ].sort(),
    );
    expect(barkPushesFor(bark, one.barkKey).map((push) => push['body'])).to.deep.equal([
      'Technician dispatched',
    ]);
    expect(ntfy.messagesOf(one.topic).map((m) => [m.event, m.title, m.message])).to.deep.equal([
      ['message', 'Order 42', 'Technician dispatched'],
    ]);
    const mails = smtp.received.filter((mail) => mail.to.includes(one.address));
    expect(mails.map((mail) => mail.to)).to.deep.equal([[one.address]]);
    const mail = parseRawMail(mails[0]?.raw ?? '');
    expect(header(mail, 'To')).to.equal(one.address);
    expect(header(mail, 'Subject')).to.equal('[Repairs Desk] Order 42');
    expect(await inboxIds(server, one.who.person)).to.deep.equal([messageId]);

    const quiet = await threeDevices('weak');
    const weakId = await sendAccepted(server, app, { openid: quiet.who.openid, body: 'quiet' });
    const weak = await waitForMessage(server, app, weakId, settled, 'settled');
    expect(summaryFor(weak, quiet)).to.deep.equal([['inbox', '-', 'delivered']]);
    expect(await inboxIds(server, quiet.who.person)).to.deep.equal([weakId]);
    expect(barkBodiesFor(bark, quiet.barkKey)).to.deep.equal([]);
    expect(ntfy.messagesOf(quiet.topic)).to.deep.equal([]);
    expect(mailsTo(quiet.address)).to.deep.equal([]);
  });

  it('a Bark device Bark does not know is marked broken; ntfy and email get the next message', async () => {
    const one = await threeDevices('strong', { knownBark: false });
    const first = await sendAccepted(server, app, { openid: one.who.openid, body: 'first' });
    const view = await waitForMessage(
      server,
      app,
      first,
      (v) => v.deliveries.length === 4 && settled(v),
      'settled',
    );
    expect(summaryFor(view, one)).to.deep.equal(
      [
        ['bark', one.bark.deviceId, 'abandoned'],
        ['email', one.email.deviceId, 'delivered'],
        ['inbox', '-', 'delivered'],
        ['ntfy', one.ntfy.deviceId, 'delivered'],
      ].sort(),
    );
    const devices = await waitUntil(
      () => devicesOf(one.who.person),
      (items) => items.some((d) => d.deviceId === one.bark.deviceId && d.broken !== null),
      'the Bark device marked broken',
    );
    expect(devices.map((d) => [d.kind, d.broken === null])).to.deep.equal([
      ['bark', false],
      ['ntfy', true],
      ['email', true],
    ]);
    expect(devices[0]?.broken).to.include('failed to get device token');

    const second = await sendAccepted(server, app, { openid: one.who.openid, body: 'second' });
    const next = await waitForMessage(
      server,
      app,
      second,
      (v) => v.deliveries.length === 3 && settled(v),
      'settled without the broken device',
    );
    expect(summaryFor(next, one)).to.deep.equal(
      [
        ['email', one.email.deviceId, 'delivered'],
        ['inbox', '-', 'delivered'],
        ['ntfy', one.ntfy.deviceId, 'delivered'],
      ].sort(),
    );
    expect(ntfy.messagesOf(one.topic).map((m) => m.message)).to.deep.equal(['first', 'second']);
    expect(mailsTo(one.address).map((mail) => header(mail, 'Subject'))).to.deep.equal([
      '[Repairs Desk] first',
      '[Repairs Desk] second',
    ]);
    // Bark was asked once (the first message), never again.
    expect(barkBodiesFor(bark, one.barkKey)).to.have.length(1);
  });

  it('an ntfy server answering 403 abandons that delivery without marking the device broken (misconfigured)', async () => {
    const one = await threeDevices('strong', { ntfyUrl: lockedNtfy.url });
    const first = await sendAccepted(server, app, { openid: one.who.openid, body: 'first' });
    const view = await waitForMessage(
      server,
      app,
      first,
      (v) => v.deliveries.length === 4 && settled(v),
      'settled',
    );
    const refused = view.deliveries.find(
      (d) => d.device === deviceRef(one.who.bindingId, one.ntfy.deviceId),
    );
    expect(refused?.status).to.equal('abandoned');
    expect(refused?.attempts).to.equal(1);
    expect(refused?.lastError).to.include('403');
    expect(lockedNtfy.requests.filter((r) => r.json !== undefined)).to.have.length(1);
    // ntfy names no device: a 403 is the person's token or topic, not a device that is gone.
    expect((await devicesOf(one.who.person)).map((d) => d.broken)).to.deep.equal([
      null,
      null,
      null,
    ]);

    const second = await sendAccepted(server, app, { openid: one.who.openid, body: 'second' });
    const next = await waitForMessage(
      server,
      app,
      second,
      (v) => v.deliveries.length === 4 && settled(v),
      'settled',
    );
    expect(summaryFor(next, one)).to.deep.equal(
      [
        ['bark', one.bark.deviceId, 'delivered'],
        ['email', one.email.deviceId, 'delivered'],
        ['inbox', '-', 'delivered'],
        ['ntfy', one.ntfy.deviceId, 'abandoned'],
      ].sort(),
    );
    expect(barkPushesFor(bark, one.barkKey).map((push) => push['body'])).to.deep.equal([
      'first',
      'second',
    ]);
    expect(mailsTo(one.address)).to.have.length(2);
  });

  it('a work order’s six steps make one email thread, one ntfy sequence and one Bark notification', async () => {
    const one = await threeDevices();
    const steps = ['dispatched', 'departed', 'arrived', 'handled', 'awaiting review', 'closed'];
    const ids: string[] = [];
    for (const step of steps) {
      const messageId = await sendAccepted(server, app, {
        openid: one.who.openid,
        title: 'Order 42',
        body: `Technician ${step}`,
        thread: 'order-42',
      });
      ids.push(messageId);
      // One step at a time, as a work order moves: each is delivered before the next is sent.
      await waitForMessage(
        server,
        app,
        messageId,
        (v) => v.deliveries.filter((d) => d.status === 'delivered').length === 4,
        `step ${step} delivered everywhere`,
      );
    }

    const mails = mailsTo(one.address);
    expect(mails).to.have.length(6);
    const roots = mails.map((mail) => [header(mail, 'In-Reply-To'), header(mail, 'References')]);
    const root = roots[0]?.[0] ?? '';
    expect(root).to.match(/^<thread-[-_A-Za-z0-9]+@tidings\.example>$/);
    expect(roots).to.deep.equal(steps.map(() => [root, root]));
    const messageIds = mails.map((mail) => header(mail, 'Message-ID'));
    expect(new Set(messageIds).size).to.equal(6);
    expect(messageIds).to.not.include(root);
    expect(messageIds).to.deep.equal(ids.map((id) => `<tidings-${id}@tidings.example>`));

    const published = ntfy.messagesOf(one.topic);
    expect(published).to.have.length(6);
    const sequences = new Set(published.map((m) => m.sequence_id));
    expect(sequences.size).to.equal(1);
    const shown = ntfy.notificationsOf(one.topic);
    expect(shown.map((n) => n.message.message)).to.deep.equal(['Technician closed']);
    expect(shown[0]?.sequenceId).to.equal(published[0]?.sequence_id);

    const pushes = barkPushesFor(bark, one.barkKey);
    expect(pushes).to.have.length(6);
    expect(new Set(pushes.map((push) => push['id'])).size).to.equal(1);
    expect(bark.notificationsOf(one.barkKey).map((n) => n.body)).to.deep.equal([
      'Technician closed',
    ]);
  });

  it('a recall takes the message back from Bark, ntfy and the webhook; email and SMS send nothing', async () => {
    const one = await threeDevices();
    const phone = `+1555${String(Date.now()).slice(-7)}`;
    const smsDevice = await addDevice(one.who.person, 'sms', { phone });
    const hook = await addDevice(one.who.person, 'webhook', { url: hooks.url });
    const secret = hook.body.secret ?? '';
    const messageId = await sendAccepted(server, app, {
      openid: one.who.openid,
      body: 'oops',
      thread: 'order-7',
    });
    await waitForMessage(
      server,
      app,
      messageId,
      (v) => v.deliveries.filter((d) => d.status === 'delivered').length === 6,
      'delivered on five devices and the inbox',
    );
    const mailsBefore = smtp.received.length;
    const smsBefore = sms.requests.length;
    const sentSms = sms.sent.filter((s) => s.to === phone);
    expect(sentSms.map((s) => s.reference)).to.deep.equal([messageId]);
    const pushed = barkPushesFor(bark, one.barkKey);
    expect(pushed).to.have.length(1);
    const sequenceId = ntfy.messagesOf(one.topic)[0]?.sequence_id ?? '';
    expect(sequenceId).to.not.equal('');
    const hooksOf = (): ReceivedWebhook[] =>
      hooks.received.filter((r) => {
        const body = JSON.parse(r.raw.toString('utf8')) as { data?: { messageId?: string } };
        return body.data?.messageId === messageId;
      });
    expect(hooksOf()).to.have.length(1);

    const recalled = await call<{ status: string }>(
      server.base,
      'DELETE',
      `/v1/messages/${messageId}`,
      { token: app.appSecret },
    );
    expect(recalled.status, JSON.stringify(recalled.body)).to.equal(200);
    expect(recalled.body.status).to.equal('recalled');

    await waitUntil(
      () => ({
        bark: barkBodiesFor(bark, one.barkKey).filter((b) => b['delete'] !== undefined),
        ntfy: ntfy.messagesOf(one.topic).filter((m) => m.event === 'message_delete'),
        hooks: hooksOf().length,
      }),
      (seen) => seen.bark.length === 1 && seen.ntfy.length === 1 && seen.hooks === 2,
      'the recall on Bark, ntfy and the webhook',
    );
    const deletes = barkBodiesFor(bark, one.barkKey).filter((b) => b['delete'] !== undefined);
    expect(deletes.map((b) => [String(b['delete']), b['id']])).to.deep.equal([
      ['1', pushed[0]?.['id']],
    ]);
    expect(bark.notificationsOf(one.barkKey)).to.deep.equal([]);
    const ntfyDeletes = ntfy.requests.filter((r) => r.method === 'DELETE');
    expect(ntfyDeletes.map((r) => r.path)).to.include(`/${one.topic}/${sequenceId}`);
    expect(ntfy.notificationsOf(one.topic)).to.deep.equal([]);
    const recall = hooksOf()[1];
    expect(recall?.headers['webhook-id']).to.equal(`rcl_${messageId}`);
    const event = new Webhook(secret).verify(
      recall?.raw ?? Buffer.alloc(0),
      recall?.headers as Record<string, string>,
    ) as { type: string; data: Record<string, unknown> };
    expect(event.type).to.equal('message.recalled');
    expect(event.data).to.deep.include({ messageId, appId: app.appId, thread: 'order-7' });

    // Give the worker time to (wrongly) send anything more, then check nothing was.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.received.length).to.equal(mailsBefore);
    expect(sms.requests.length).to.equal(smsBefore);
    expect(smsDevice.body.deviceId).to.match(/^dev_/);
    expect(await inboxIds(server, one.who.person)).to.deep.equal([]);
  });

  it('a plugin from a folder outside the repository is listed, gets a device and receives a strong message', async () => {
    const channels = await call<{
      items: { kind: string; name: string; settings: Record<string, unknown>[] }[];
    }>(server.base, 'GET', '/v1/channels');
    expect(channels.status).to.equal(200);
    expect(channels.body.items.map((c) => c.kind)).to.include.members([
      'bark',
      'ntfy',
      'email',
      'sms',
      'webhook',
      'relay',
    ]);
    const relay = channels.body.items.find((c) => c.kind === 'relay');
    expect(relay).to.deep.equal({
      kind: 'relay',
      name: 'Relay',
      settings: [
        {
          name: 'endpoint',
          description: 'where to post',
          type: 'url',
          secret: false,
          required: true,
        },
        {
          name: 'token',
          description: 'access token',
          type: 'string',
          secret: true,
          required: true,
        },
      ],
    });

    const person = await registerPerson(server);
    const token = unique('relay-token-');
    const device = await addDevice(person, 'relay', { endpoint: relayEndpoint.url, token });
    expect(device.body.settings).to.deep.equal({ endpoint: relayEndpoint.url, token: '********' });
    const who = await bindPerson(server, undefined, app, { person, level: 'strong' });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'via relay' });
    const view = await waitForMessage(
      server,
      app,
      messageId,
      (v) => v.deliveries.length === 2 && v.deliveries.every((d) => d.status === 'delivered'),
      'delivered through the plugin',
    );
    expect(summary(view, who.bindingId, [device.body.deviceId])).to.deep.equal(
      [
        ['inbox', '-', 'delivered'],
        ['relay', device.body.deviceId, 'delivered'],
      ].sort(),
    );
    expect(relayEndpoint.received).to.have.length(1);
    const received = relayEndpoint.received[0];
    expect(received?.method).to.equal('POST');
    expect(received?.path).to.equal('/hooks/tidings');
    expect(received?.headers.authorization).to.equal(`Bearer ${token}`);
    expect(JSON.parse(received?.raw.toString('utf8') ?? '')).to.deep.equal({
      messageId,
      appName: 'Repairs Desk',
      body: 'via relay',
    });
  });

  it('an ntfy topic outside ntfy’s rule is refused when the device is saved, naming the field, and nothing is stored', async () => {
    const person = await registerPerson(server);
    const refused = await api('POST', '/v1/me/devices', person.cookie, {
      kind: 'ntfy',
      settings: { serverUrl: ntfy.url, topic: 'alerts/phone' },
    });
    expect(expectProblem(refused, 400, 'validation_failed').errors).to.deep.equal([
      { path: '/settings/topic', message: 'must match the pattern [A-Za-z0-9_\\-]{1,64}' },
    ]);
    expect(await devicesOf(person)).to.deep.equal([]);
    const channels = await api<{ items: { kind: string; settings: { name: string }[] }[] }>(
      'GET',
      '/v1/channels',
      person.cookie,
    );
    const topic = channels.body.items
      .find((channel) => channel.kind === 'ntfy')
      ?.settings.find((setting) => setting.name === 'topic');
    expect(topic).to.deep.include({ pattern: '[A-Za-z0-9_\\-]{1,64}' });
  });

  it('a webhook device’s secret is shown once at creation and signs what the receiver gets', async () => {
    const person = await registerPerson(server);
    const created = await addDevice(person, 'webhook', { url: hooks.url });
    const secret = created.body.secret ?? '';
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]+=*$/);
    const listed = await api<{ items: Device[] }>('GET', '/v1/me/devices', person.cookie);
    expect(JSON.stringify(listed.body)).to.not.include(secret);
    expect(JSON.stringify(listed.body)).to.not.include(secret.slice('whsec_'.length));
    expect(listed.body.items.map((d) => d.settings)).to.deep.equal([
      { url: hooks.url, secret: '********' },
    ]);
    expect(created.body.settings).to.deep.equal({ url: hooks.url, secret: '********' });
    const renamed = await api<Device>(
      'PATCH',
      `/v1/me/devices/${created.body.deviceId}`,
      person.cookie,
      { name: 'Home server' },
    );
    expect(renamed.status).to.equal(200);
    expect(JSON.stringify(renamed.body)).to.not.include(secret.slice('whsec_'.length));
    const who = await bindPerson(server, undefined, app, { person, level: 'strong' });
    const messageId = await sendAccepted(server, app, {
      openid: who.openid,
      title: 'Order 9',
      body: 'signed',
    });
    await waitForMessage(
      server,
      app,
      messageId,
      (v) => v.deliveries.length === 2 && v.deliveries.every((d) => d.status === 'delivered'),
      'delivered to the webhook',
    );
    const received = hooks.received.find((r) => r.headers['webhook-id'] === `msg_${messageId}`);
    expect(received, 'the webhook request').to.not.equal(undefined);
    const headers = received?.headers as Record<string, string>;
    const raw = received?.raw ?? Buffer.alloc(0);
    const event = new Webhook(secret).verify(raw, headers) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(event.type).to.equal('message.created');
    expect(event.data).to.deep.include({ messageId, title: 'Order 9', body: 'signed' });
    // The check is real: another secret, or one changed byte, fails it.
    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    expect(() => other.verify(raw, headers)).to.throw();
    const altered = Buffer.from(raw.toString('utf8').replace('signed', 'Signed'));
    expect(() => new Webhook(secret).verify(altered, headers)).to.throw();
  });
});
