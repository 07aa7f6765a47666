import { expect } from 'chai';
import { silentLogger } from '../../../adapters/logging/logger.js';
import type { SmtpServer } from '../../../adapters/config/smtpSettings.js';
import { emptyAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import { createGuardedHttpClient } from '../../../adapters/outbound/guardedHttpClient.js';
import type { Channel, ChannelContext, OutgoingMessage } from '../../../channels/channel.js';
import type { EmailSettings } from '../../../channels/email/emailRender.js';
import type { RenderedMail } from '../../../channels/email/mailTransport.js';
import { createSmtpEmailChannel } from '../../../composition/emailChannel.js';
import { recordingLogger } from '../../support/logs.js';
import { header, parseRawMail } from '../../support/rawMail.js';
import {
  closedPort,
  startSmtpTestServer,
  testCertificate,
  type SmtpTestServer,
} from '../../support/smtpTestServer.js';

// Every mail in this file goes to a real SMTP server (the smtp-server package) on 127.0.0.1 that
// offers STARTTLS with a certificate made for the run, and requires AUTH. The client verifies
// that certificate: it is handed it as its CA, never told to skip the check.

const USER = 'tidings';
const PASS = 'p@ss:w/rd';
const TO = 'person@mail.example.com';
const FROM = { address: 'tidings@hub.example.org', name: 'Tidings' };

const context: ChannelContext = {
  // The email channel must not use the HTTP client; one that refuses everything proves it.
  http: createGuardedHttpClient({ allowlist: emptyAllowlist }),
  logger: silentLogger,
  now: () => new Date(0),
};

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  title: 'Order 42 <dispatched>',
  body: 'Technician & van on the way.\n维修师傅已出发。',
  url: 'https://desk.example/orders/42',
  ...overrides,
});

const serverAt = (port: number, overrides: Partial<SmtpServer> = {}): SmtpServer => ({
  secure: false,
  host: '127.0.0.1',
  port,
  auth: { user: USER, pass: PASS },
  requireTLS: true,
  ...overrides,
});

const channelFor = (server: SmtpServer, timeoutMs = 5_000): Channel<EmailSettings, RenderedMail> =>
  createSmtpEmailChannel({ server, from: FROM }, silentLogger, {
    timeoutMs,
    ca: testCertificate().cert,
  });

const send = (
  channel: Channel<EmailSettings, RenderedMail>,
  overrides: Partial<OutgoingMessage> = {},
  settings: EmailSettings = { address: TO },
) => channel.send(channel.render(message(overrides), settings), context);

describe('email channel: send over SMTP', () => {
  describe('with STARTTLS and AUTH', () => {
    let smtp: SmtpTestServer;
    before(async () => {
      smtp = await startSmtpTestServer({
        users: { [USER]: PASS },
        onRecipient: (address) => {
          if (address.startsWith('gone@')) return { code: 550, message: '5.1.1 No such user' };
          if (address.startsWith('busy@')) return { code: 451, message: '4.3.0 Try again later' };
          if (address.startsWith('relay@')) return { code: 554, message: '5.7.1 Relay denied' };
          return undefined;
        },
      });
    });
    after(() => smtp.close());
    beforeEach(() => {
      smtp.received.length = 0;
      smtp.authAttempts.length = 0;
    });

    it('delivers over an encrypted, authenticated session, to exactly the address', async () => {
      expect(await send(channelFor(serverAt(smtp.port)))).to.deep.equal({ kind: 'delivered' });
      expect(smtp.received).to.have.length(1);
      const [mail] = smtp.received;
      expect(mail?.secure).to.equal(true);
      expect(mail?.user).to.equal(USER);
      expect(mail?.from).to.equal(FROM.address);
      expect(mail?.to).to.deep.equal([TO]);
      expect(smtp.authAttempts).to.deep.equal([`${USER}:ok`]);
    });

    it('sends the rendered headers and both parts, the HTML escaped', async () => {
      await send(channelFor(serverAt(smtp.port)), { thread: 'order-42' });
      const mail = parseRawMail(smtp.received[0]?.raw ?? '');
      expect(header(mail, 'From')).to.equal('Tidings <tidings@hub.example.org>');
      expect(header(mail, 'To')).to.equal(TO);
      expect(header(mail, 'Subject')).to.equal('[Repairs Desk] Order 42 <dispatched>');
      expect(header(mail, 'Message-ID')).to.equal('<tidings-msg-0001@hub.example.org>');
      expect(header(mail, 'In-Reply-To')).to.match(
        /^<thread-[A-Za-z0-9_-]{43}@hub\.example\.org>$/,
      );
      expect(header(mail, 'References')).to.equal(header(mail, 'In-Reply-To'));
      expect(header(mail, 'Auto-Submitted')).to.equal('auto-generated');
      expect(header(mail, 'Content-Type')).to.match(/^multipart\/alternative;/);
      expect(mail.parts.map((part) => part.contentType.split(';')[0])).to.deep.equal([
        'text/plain',
        'text/html',
      ]);
      const [text, html] = mail.parts.map((part) => part.text);
      expect(text).to.include(
        'Order 42 <dispatched>\n\nTechnician & van on the way.\n维修师傅已出发。',
      );
      expect(text).to.include('https://desk.example/orders/42');
      expect(html).to.include('<h1 style="font-size: 1.3em;">Order 42 &lt;dispatched&gt;</h1>');
      expect(html).to.include('Technician &amp; van on the way.<br>\n维修师傅已出发。');
      expect(html).to.include('<a href="https://desk.example/orders/42">');
      expect(html).to.not.include('<dispatched>');
    });

    it('puts the six steps of a work order in one thread, as received', async () => {
      const channel = channelFor(serverAt(smtp.port));
      const steps = ['dispatched', 'departed', 'arrived', 'handled', 'awaiting review', 'closed'];
      for (const [index, step] of steps.entries()) {
        const outcome = await send(channel, {
          messageId: `msg-${index}`,
          thread: 'order-42',
          title: `Order 42: ${step}`,
        });
        expect(outcome).to.deep.equal({ kind: 'delivered' });
      }
      const mails = smtp.received.map((received) => parseRawMail(received.raw));
      const roots = new Set(mails.map((mail) => header(mail, 'References')));
      expect(roots.size).to.equal(1);
      expect(new Set(mails.map((mail) => header(mail, 'In-Reply-To')))).to.deep.equal(roots);
      expect(new Set(mails.map((mail) => header(mail, 'Message-ID'))).size).to.equal(6);
    });

    it('sends a Chinese subject encoded, and it decodes back', async () => {
      await send(channelFor(serverAt(smtp.port)), {
        title: '维修工单：师傅已出发',
        appName: '物业',
      });
      const raw = smtp.received[0]?.raw ?? '';
      expect(raw).to.match(/^Subject: =\?UTF-8\?/m);
      expect(header(parseRawMail(raw), 'Subject')).to.equal('[物业] 维修工单：师傅已出发');
    });

    it('keeps a CRLF in the title out of the headers', async () => {
      await send(channelFor(serverAt(smtp.port)), { title: 'Hi\r\nBcc: victim@evil.example' });
      const mail = parseRawMail(smtp.received[0]?.raw ?? '');
      expect(mail.headers.has('bcc')).to.equal(false);
      expect(header(mail, 'Subject')).to.equal('[Repairs Desk] Hi Bcc: victim@evil.example');
      expect(smtp.received[0]?.to).to.deep.equal([TO]);
    });

    it('is rejected as misconfigured with wrong credentials', async () => {
      const outcome = await send(
        channelFor(serverAt(smtp.port, { auth: { user: USER, pass: 'wrong' } })),
      );
      expect(outcome).to.include({ kind: 'rejected', code: 'misconfigured' });
      expect(smtp.authAttempts).to.deep.equal([`${USER}:refused`]);
      expect(smtp.received).to.have.length(0);
    });

    it('fails (to retry) on a 4xx at RCPT TO', async () => {
      const outcome = await send(
        channelFor(serverAt(smtp.port)),
        {},
        { address: 'busy@x.example' },
      );
      expect(outcome).to.deep.equal({
        kind: 'failed',
        reason: 'the SMTP server answered RCPT TO with 451 4.3.0',
      });
    });

    it('is rejected with device_unknown on 550 5.1.1, without the address in the reason', async () => {
      const outcome = await send(
        channelFor(serverAt(smtp.port)),
        {},
        { address: 'gone@x.example' },
      );
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'device_unknown',
        reason: 'the SMTP server answered RCPT TO with 550 5.1.1',
      });
    });

    it('is rejected as misconfigured on a 5.7.x policy refusal', async () => {
      const outcome = await send(
        channelFor(serverAt(smtp.port)),
        {},
        { address: 'relay@x.example' },
      );
      expect(outcome).to.include({ kind: 'rejected', code: 'misconfigured' });
    });

    it('refuses an address that is not one plain mailbox before connecting', async () => {
      const outcome = await send(
        channelFor(serverAt(smtp.port)),
        {},
        { address: 'a@x.example, b@y.example' },
      );
      expect(outcome).to.include({ kind: 'rejected', code: 'misconfigured' });
      expect(smtp.authAttempts).to.deep.equal([]);
    });

    it('fails when the certificate is not trusted (TLS failure)', async () => {
      const channel = createSmtpEmailChannel(
        { server: serverAt(smtp.port), from: FROM },
        silentLogger,
        {
          timeoutMs: 5_000,
        },
      );
      const outcome = await send(channel);
      expect(outcome.kind).to.equal('failed');
      expect(smtp.authAttempts).to.deep.equal([]);
    });

    it('logs the Message-ID and the SMTP code, never the address or the content', async () => {
      const { logger, entries } = recordingLogger();
      const channel = channelFor(serverAt(smtp.port));
      const mail = channel.render(message(), { address: 'gone@x.example' });
      await channel.send(mail, { ...context, logger });
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({
        msg: 'email not delivered',
        messageId: '<tidings-msg-0001@hub.example.org>',
        smtpCode: 550,
        code: 'device_unknown',
      });
      const logged = JSON.stringify(entries);
      for (const secret of ['gone@', 'Order 42', 'Technician', PASS]) {
        expect(logged).to.not.include(secret);
      }
    });
  });

  describe('TLS is required with credentials', () => {
    let plain: SmtpTestServer;
    before(async () => {
      plain = await startSmtpTestServer({ users: { [USER]: PASS }, noStartTls: true });
    });
    after(() => plain.close());

    it('fails without sending the password when the server offers no STARTTLS', async () => {
      const outcome = await send(channelFor(serverAt(plain.port)));
      expect(outcome.kind).to.equal('failed');
      expect(plain.authAttempts).to.deep.equal([]);
      expect(plain.received).to.have.length(0);
    });
  });

  describe('with implicit TLS (smtps://) and AUTH LOGIN', () => {
    let smtps: SmtpTestServer;
    before(async () => {
      smtps = await startSmtpTestServer({
        users: { [USER]: PASS },
        secure: true,
        authMethods: ['LOGIN'],
      });
    });
    after(() => smtps.close());

    it('delivers over TLS from the first byte', async () => {
      const outcome = await send(
        channelFor(serverAt(smtps.port, { secure: true, requireTLS: false })),
      );
      expect(outcome).to.deep.equal({ kind: 'delivered' });
      expect(smtps.received[0]?.secure).to.equal(true);
      expect(smtps.authAttempts).to.deep.equal([`${USER}:ok`]);
    });
  });

  describe('when the server is down or slow', () => {
    it('fails when nothing listens', async () => {
      const outcome = await send(channelFor(serverAt(await closedPort())));
      expect(outcome.kind).to.equal('failed');
      expect(outcome).to.have.property('reason').that.includes('ECONNREFUSED');
    });

    it('fails on a timeout when the server stops answering', async () => {
      const slow = await startSmtpTestServer({ users: { [USER]: PASS }, recipientDelayMs: 3_000 });
      try {
        const started = Date.now();
        const outcome = await send(channelFor(serverAt(slow.port), 300));
        expect(outcome).to.deep.equal({
          kind: 'failed',
          reason: 'the SMTP server did not answer within 300 ms',
        });
        expect(Date.now() - started).to.be.below(2_500);
      } finally {
        await slow.close();
      }
    });
  });
});
