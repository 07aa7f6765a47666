import { expect } from 'chai';
import fc from 'fast-check';
import type { OutgoingMessage } from '../../../channels/channel.js';
import { createSmsChannel, renderSms } from '../../../channels/sms/smsChannel.js';
import { encodingOf, segmentsOf } from '../../../channels/sms/smsSegments.js';
import { SMS_APP_NAME_MAX, SMS_MAX_SEGMENTS, smsTextOf } from '../../../channels/sms/smsText.js';

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  title: 'Order 42',
  body: 'Technician dispatched',
  ...overrides,
});

/** True when `text` has no unpaired surrogate (a cut through an emoji would leave one). */
const wellFormed = (text: string): boolean =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('sms channel: segments', () => {
  it('tells GSM text from text that needs UCS-2', () => {
    expect(encodingOf('Hello @ 5€ [ok] {è}')).to.equal('gsm7');
    expect(encodingOf('Technician … dispatched')).to.equal('ucs2');
    expect(encodingOf('维修')).to.equal('ucs2');
    expect(encodingOf('ok 👍')).to.equal('ucs2');
  });

  it('counts 160 GSM characters as one SMS and 153 a part beyond', () => {
    expect(segmentsOf('a'.repeat(160))).to.equal(1);
    expect(segmentsOf('a'.repeat(161))).to.equal(2);
    expect(segmentsOf('a'.repeat(459))).to.equal(3);
    expect(segmentsOf('a'.repeat(460))).to.equal(4);
  });

  it('counts an extension character (€, [, {…) as two septets', () => {
    expect(segmentsOf('€'.repeat(80))).to.equal(1);
    expect(segmentsOf(`${'a'.repeat(159)}€`)).to.equal(2);
  });

  it('counts 70 UCS-2 units as one SMS and 67 a part beyond, an emoji as two units', () => {
    expect(segmentsOf('长'.repeat(70))).to.equal(1);
    expect(segmentsOf('长'.repeat(71))).to.equal(2);
    expect(segmentsOf('长'.repeat(201))).to.equal(3);
    expect(segmentsOf('长'.repeat(202))).to.equal(4);
    expect(segmentsOf('😀'.repeat(35))).to.equal(1);
    expect(segmentsOf('😀'.repeat(36))).to.equal(2);
  });

  it('never splits an emoji between two parts, so a part may hold 66 units', () => {
    // 201 units would be three parts if a surrogate pair could straddle a boundary.
    expect(segmentsOf(`长${'😀'.repeat(100)}`)).to.equal(4);
  });
});

describe('sms channel: text', () => {
  it('puts the app name first, then title and body', () => {
    expect(smsTextOf(message())).to.equal('[Repairs Desk] Order 42: Technician dispatched');
  });

  it('joins title and subtitle, and leaves out blank ones', () => {
    expect(smsTextOf(message({ subtitle: 'Unit 5' }))).to.equal(
      '[Repairs Desk] Order 42 - Unit 5: Technician dispatched',
    );
    expect(smsTextOf(message({ title: ' ', subtitle: 'Unit 5' }))).to.equal(
      '[Repairs Desk] Unit 5: Technician dispatched',
    );
    const { title: _title, ...untitled } = message();
    expect(smsTextOf(untitled)).to.equal('[Repairs Desk] Technician dispatched');
  });

  it('appends the link', () => {
    expect(smsTextOf(message({ url: 'https://desk.example/o/42' }))).to.equal(
      '[Repairs Desk] Order 42: Technician dispatched https://desk.example/o/42',
    );
  });

  it("uses the app's id when its name is blank, and cuts a long name", () => {
    expect(smsTextOf(message({ appName: '  ' }))).to.match(/^\[app-1\] /);
    const text = smsTextOf(message({ appName: 'A'.repeat(80) }));
    expect(text.startsWith(`[${'A'.repeat(SMS_APP_NAME_MAX - 3)}...] `)).to.equal(true);
  });

  it('is deterministic', () => {
    const long = message({ body: '请尽快到达现场😀'.repeat(60), url: 'https://desk.example/o/42' });
    expect(smsTextOf(long)).to.equal(smsTextOf(long));
  });

  it('cuts a long Chinese message to three SMS with …, app name first', () => {
    const text = smsTextOf(
      message({
        appName: '报修平台',
        title: '工单42',
        body: '请在明天上午九点前到达现场。'.repeat(40),
      }),
    );
    expect(text.startsWith('[报修平台] 工单42: 请在明天')).to.equal(true);
    expect(text.endsWith('…')).to.equal(true);
    expect(segmentsOf(text)).to.equal(SMS_MAX_SEGMENTS);
    // Three UCS-2 parts hold 201 units; the cut keeps as much as fits.
    expect(text.length).to.be.within(195, 201);
  });

  it('cuts a long GSM message with "..." so it stays GSM (459 characters, not 201)', () => {
    const text = smsTextOf(message({ body: 'Technician dispatched. '.repeat(40) }));
    expect(text.endsWith('...')).to.equal(true);
    expect(encodingOf(text)).to.equal('gsm7');
    expect(segmentsOf(text)).to.equal(3);
    expect(text.length).to.be.within(450, 459);
  });

  it('never cuts through an emoji', () => {
    for (let extra = 0; extra < 4; extra += 1) {
      const text = smsTextOf(message({ body: `${'x'.repeat(extra)}${'😀'.repeat(200)}` }));
      expect(wellFormed(text), text).to.equal(true);
      expect(segmentsOf(text)).to.be.at.most(3);
    }
  });

  it('keeps the link whole after a cut body, or drops it when nothing else would fit', () => {
    const url = 'https://desk.example/orders/42?tab=history';
    const kept = smsTextOf(message({ body: '维修'.repeat(200), url }));
    expect(kept.endsWith(`… ${url}`)).to.equal(true);
    expect(segmentsOf(kept)).to.be.at.most(3);
    const huge = `https://desk.example/${'p'.repeat(600)}`;
    const dropped = smsTextOf(message({ body: 'Technician dispatched', url: huge }));
    expect(dropped).to.not.include('https://');
    expect(dropped).to.equal('[Repairs Desk] Order 42: Technician dispatched');
  });

  it('always fits three SMS, starts with the app name and stays well-formed', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 400 });
    fc.assert(
      fc.property(
        fc.record({
          appName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
          title: text,
          body: text,
          url: fc.option(fc.webUrl(), { nil: undefined }),
        }),
        ({ appName, title, body, url }) => {
          const sms = smsTextOf(
            message({ appName, title, body, ...(url === undefined ? {} : { url }) }),
          );
          expect(segmentsOf(sms)).to.be.at.most(SMS_MAX_SEGMENTS);
          expect(sms.startsWith('[')).to.equal(true);
          expect(wellFormed(sms)).to.equal(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('sms channel: declaration and render', () => {
  const channel = createSmsChannel({ gatewayUrl: 'https://sms.example/send', token: 'tok-1' });

  it('is kind sms, named SMS, with one required phone setting and no recall', () => {
    expect(channel.kind).to.equal('sms');
    expect(channel.name).to.equal('SMS');
    expect(channel.settings).to.deep.equal([
      {
        name: 'phone',
        description: 'Mobile number with country code, e.g. +8613800138000',
        type: 'phone',
        secret: false,
        required: true,
      },
    ]);
    expect('renderRecall' in channel).to.equal(false);
  });

  it("renders the gateway's URL and token, the number, the text and the message id", () => {
    expect(channel.render(message(), { phone: '+8613800138000' })).to.deep.equal({
      url: 'https://sms.example/send',
      token: 'tok-1',
      message: {
        to: '+8613800138000',
        text: '[Repairs Desk] Order 42: Technician dispatched',
        reference: 'msg-0001',
      },
    });
    expect(
      renderSms({ gatewayUrl: 'https://g', token: 't' }, message(), { phone: '+15551234567' })
        .message.reference,
    ).to.equal('msg-0001');
  });
});
