import { expect } from 'chai';
import fc from 'fast-check';
import type { OutgoingMessage } from '../../../channels/channel.js';
import { escapeHtml } from '../../../channels/email/emailBody.js';
import { renderEmail } from '../../../channels/email/emailRender.js';
import {
  SUBJECT_TEXT_MAX,
  messageIdFor,
  threadRootFor,
} from '../../../channels/email/emailHeaders.js';
import type { MailAddress, RenderedMail } from '../../../channels/email/mailTransport.js';

const FROM: MailAddress = { address: 'tidings@hub.example.org', name: 'Tidings' };
const SETTINGS = { address: 'person@mail.example.com' };

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  title: 'Order 42',
  body: 'Technician dispatched',
  ...overrides,
});

const render = (overrides: Partial<OutgoingMessage> = {}): RenderedMail =>
  renderEmail(message(overrides), SETTINGS, FROM);

/** Every header value a mail carries, for checks that must hold of all of them. */
const headerValues = (mail: RenderedMail): string[] => [
  mail.to,
  mail.from.address,
  mail.from.name ?? '',
  mail.subject,
  mail.messageId,
  mail.inReplyTo ?? '',
  ...(mail.references ?? []),
  ...Object.values(mail.headers),
];

describe('email channel: render', () => {
  describe('subject', () => {
    it('is the title behind the app name in brackets', () => {
      expect(render().subject).to.equal('[Repairs Desk] Order 42');
    });

    it("is the body's first non-blank line without a title", () => {
      expect(render({ title: '  ', body: '\n\n  Arrived on site\nsecond line' }).subject).to.equal(
        '[Repairs Desk] Arrived on site',
      );
    });

    it("uses the app's id when its name is blank", () => {
      expect(render({ appName: ' ' }).subject).to.equal('[app-1] Order 42');
    });

    it('turns CR, LF and other controls into single spaces (no header injection)', () => {
      const mail = render({
        title: 'Hi\r\nBcc: victim@example.com\r\n\r\n<b>x</b>',
        appName: 'Evil\nX-Hdr: 1',
      });
      expect(mail.subject).to.equal('[Evil X-Hdr: 1] Hi Bcc: victim@example.com <b>x</b>');
    });

    it(`cuts a long text to ${SUBJECT_TEXT_MAX} characters, at a code-point boundary`, () => {
      const subject = render({ title: '工单'.repeat(60) + '😀'.repeat(60) }).subject;
      const text = subject.slice('[Repairs Desk] '.length);
      expect(Array.from(text)).to.have.length(SUBJECT_TEXT_MAX);
      expect(text.endsWith('…')).to.equal(true);
      expect(text.startsWith('工单工单')).to.equal(true);
      expect(text).to.not.match(/[\ud800-\udbff](?![\udc00-\udfff])/); // no lone high surrogate
    });

    it('keeps Chinese text as it is', () => {
      expect(render({ title: '维修工单：师傅已出发', appName: '物业' }).subject).to.equal(
        '[物业] 维修工单：师傅已出发',
      );
    });
  });

  describe('parts', () => {
    const hostile = message({
      appName: '<img src=x onerror=alert(1)> & Co',
      title: '<script>alert("t")</script>',
      subtitle: `Tom & Jerry's "show"`,
      body: 'line <one>\nline & two\n\n</p><script>x</script>',
      url: 'https://example.com/?a=1&b="2"<x>',
    });

    it('escapes every piece of content in the HTML part', () => {
      const { html } = renderEmail(hostile, SETTINGS, FROM);
      expect(html).to.not.include('<script>');
      expect(html).to.not.include('<img');
      expect(html).to.not.include('</p><script>');
      expect(html).to.include('&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;');
      expect(html).to.include('&lt;img src=x onerror=alert(1)&gt; &amp; Co');
      expect(html).to.include('Tom &amp; Jerry&#39;s &quot;show&quot;');
      expect(html).to.include('line &lt;one&gt;<br>\nline &amp; two');
      expect(html).to.include('&lt;/p&gt;&lt;script&gt;x&lt;/script&gt;');
      // The URL is parsed (quotes and brackets percent-encoded) and escaped again in the href.
      expect(html).to.include(
        '<a href="https://example.com/?a=1&amp;b=%222%22%3Cx%3E">https://example.com/?a=1&amp;b=%222%22%3Cx%3E</a>',
      );
    });

    it('makes no link of a URL that is not http(s)', () => {
      for (const url of [
        'javascript:alert(1)',
        'data:text/html,<b>x</b>',
        'not a url',
        'file:///etc/passwd',
      ]) {
        const mail = render({ url });
        expect(mail.html).to.not.include('<a ');
        expect(mail.html).to.not.include('javascript');
        expect(mail.text).to.not.include(url);
      }
    });

    it('gives the plain text as it is in the text part, with the link and a signature', () => {
      const { text } = renderEmail(hostile, SETTINGS, FROM);
      expect(text).to.equal(
        [
          '<script>alert("t")</script>',
          `Tom & Jerry's "show"`,
          '',
          'line <one>\nline & two\n\n</p><script>x</script>',
          '',
          'https://example.com/?a=1&b=%222%22%3Cx%3E',
          '',
          '-- ',
          'Sent by Tidings for <img src=x onerror=alert(1)> & Co.',
          '',
        ].join('\n'),
      );
    });

    it('keeps Chinese text in both parts', () => {
      const mail = render({ title: '维修工单', body: '师傅已出发，预计十点到达。' });
      expect(mail.text).to.include('维修工单\n\n师傅已出发，预计十点到达。');
      expect(mail.html).to.include('<h1 style="font-size: 1.3em;">维修工单</h1>');
      expect(mail.html).to.include('<p>师傅已出发，预计十点到达。</p>');
    });

    it('escapes any text so that no markup character survives', () => {
      fc.assert(
        fc.property(fc.string(), (text) => {
          expect(escapeHtml(text)).to.not.match(/[<>"']/);
          expect(escapeHtml(text).replace(/&(amp|lt|gt|quot|#39);/g, '')).to.not.include('&');
        }),
      );
    });
  });

  describe('headers', () => {
    it('derives Message-ID from the message id and the sender domain', () => {
      expect(render().messageId).to.equal('<tidings-msg-0001@hub.example.org>');
      expect(renderEmail(message(), SETTINGS, { address: 'x@OTHER.example' }).messageId).to.equal(
        '<tidings-msg-0001@other.example>',
      );
    });

    it('hashes a message id that is not plain, and keeps it stable', () => {
      const id = render({ messageId: 'a b@c>\r\nX: y' }).messageId;
      expect(id).to.match(/^<tidings-sha256-[A-Za-z0-9_-]{43}@hub\.example\.org>$/);
      expect(render({ messageId: 'a b@c>\r\nX: y' }).messageId).to.equal(id);
    });

    it('has no In-Reply-To or References without a thread (or with a blank one)', () => {
      for (const mail of [render(), render({ thread: '  ' })]) {
        expect(mail).to.not.have.property('inReplyTo');
        expect(mail).to.not.have.property('references');
      }
    });

    it('marks every mail Auto-Submitted, so responders do not answer', () => {
      expect(render().headers).to.deep.equal({ 'Auto-Submitted': 'auto-generated' });
    });

    it('sends to the address and from the operator sender', () => {
      const mail = render();
      expect(mail.to).to.equal('person@mail.example.com');
      expect(mail.from).to.deep.equal(FROM);
    });

    it('keeps every header value on one line, whatever the content', () => {
      fc.assert(
        fc.property(
          fc.record({
            title: fc.string(),
            appName: fc.string(),
            appId: fc.string(),
            messageId: fc.string(),
            thread: fc.string(),
            body: fc.string(),
          }),
          (fields) => {
            for (const value of headerValues(render(fields))) {
              // eslint-disable-next-line no-control-regex
              expect(value).to.not.match(/[\r\n\u0000]/);
            }
          },
        ),
      );
    });

    it('is deterministic: the same message renders the same mail', () => {
      const m = message({ thread: 'order-42', url: 'https://x.example/1' });
      expect(renderEmail(m, SETTINGS, FROM)).to.deep.equal(renderEmail(m, SETTINGS, FROM));
    });
  });

  describe('threading: one work order is one email thread', () => {
    const steps = ['dispatched', 'departed', 'arrived', 'handled', 'awaiting review', 'closed'];
    const mails = steps.map((step, index) =>
      render({ messageId: `msg-${index}`, thread: 'order-42', title: `Order 42: ${step}` }),
    );
    const root = threadRootFor('app-1', 'order-42', 'hub.example.org');

    it('gives each of the six steps its own Message-ID', () => {
      expect(new Set(mails.map((mail) => mail.messageId)).size).to.equal(6);
    });

    it('points In-Reply-To and References of every step, the first included, at one root', () => {
      expect(root).to.match(/^<thread-[A-Za-z0-9_-]{43}@hub\.example\.org>$/);
      for (const mail of mails) {
        expect(mail.inReplyTo).to.equal(root);
        expect(mail.references).to.deep.equal([root]);
      }
    });

    it('never uses the root as a Message-ID, so no step has to arrive first', () => {
      expect(mails.map((mail) => mail.messageId)).to.not.include(root);
    });

    it('keeps threads of another order or another app apart', () => {
      expect(render({ thread: 'order-43' }).inReplyTo).to.not.equal(root);
      expect(render({ thread: 'order-42', appId: 'app-2' }).inReplyTo).to.not.equal(root);
      // The pair is hashed as a JSON array, so a separator inside an id cannot merge two threads.
      expect(threadRootFor('a:b', 'c', 'd.example')).to.not.equal(
        threadRootFor('a', 'b:c', 'd.example'),
      );
    });

    it('derives the same root for the same thread every time', () => {
      expect(threadRootFor('app-1', 'order-42', 'hub.example.org')).to.equal(root);
      expect(messageIdFor('msg-0', 'hub.example.org')).to.equal(mails[0]?.messageId);
    });
  });
});
