import { expect } from 'chai';
import {
  barkChannel,
  barkIdFor,
  renderBark,
  renderBarkRecall,
  type BarkPush,
  type BarkRequest,
  type BarkSettings,
} from '../../../channels/bark/barkChannel.js';
import { APNS_PAYLOAD_LIMIT, estimatePayloadBytes } from '../../../channels/bark/barkPayload.js';
import type { OutgoingMessage } from '../../../channels/channel.js';

const settings: BarkSettings = { serverUrl: 'https://bark.example', deviceKey: 'k3yOfTheDevice' };

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  body: 'Technician dispatched',
  ...overrides,
});

const pushOf = (request: BarkRequest): BarkPush => {
  if ('delete' in request.body) throw new Error('expected a push, got a recall');
  return request.body;
};

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** True when `text` has no unpaired surrogate (a cut through an emoji would leave one). */
const wellFormed = (text: string): boolean =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

/** Apple's limit for a regular remote notification payload, in bytes. */
const APPLE_LIMIT = 4096;

/** Bark's limit for a notification id, in bytes of UTF-8. */
const ID_LIMIT = 64;

/**
 * The APNs payload bark-server builds from a push, measured here without the channel's own
 * estimate: title, subtitle and body in `aps.alert`, `group` again as `aps.thread-id`,
 * bark-server's own keys, the other fields as custom keys, all written as Go's encoding/json
 * writes them (`<`, `>`, `&`, U+2028 and U+2029 as six-byte escapes). The bytes, UTF-8.
 */
const apnsPayloadBytes = (push: BarkPush): number => {
  const { device_key: _deviceKey, title, subtitle, body, group, ...custom } = push;
  const payload = {
    aps: {
      alert: { title, subtitle, body },
      'thread-id': group,
      sound: '1107',
      category: 'myNotificationCategory',
      'mutable-content': 1,
    },
    group,
    ...custom,
  };
  const json = JSON.stringify(payload).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return Buffer.byteLength(json, 'utf8');
};

/** The fields of a push that reach Apple (all but the device key). */
const apnsFields = (push: BarkPush) => {
  const { device_key: _deviceKey, ...fields } = push;
  return fields;
};

describe('bark channel: render', () => {
  it('declares serverUrl (plain) and deviceKey (secret), both required', () => {
    expect(barkChannel.kind).to.equal('bark');
    expect(
      barkChannel.settings.map(({ name, secret, required }) => ({ name, secret, required })),
    ).to.deep.equal([
      { name: 'serverUrl', secret: false, required: true },
      { name: 'deviceKey', secret: true, required: true },
    ]);
  });

  it('posts to {serverUrl}/push, dropping trailing slashes and keeping a path prefix', () => {
    expect(renderBark(message(), settings).url).to.equal('https://bark.example/push');
    expect(
      renderBark(message(), { ...settings, serverUrl: 'https://bark.example//' }).url,
    ).to.equal('https://bark.example/push');
    expect(
      renderBark(message(), { ...settings, serverUrl: 'https://h.example/bark/' }).url,
    ).to.equal('https://h.example/bark/push');
  });

  it('maps a full message to exactly the Bark fields', () => {
    const request = renderBark(
      message({
        title: 'Order 42',
        subtitle: 'Step 1 of 6',
        url: 'https://repairs.example/orders/42',
        thread: 'order-42',
        level: 'timeSensitive',
      }),
      settings,
    );
    expect(request.body).to.deep.equal({
      device_key: 'k3yOfTheDevice',
      title: 'Order 42',
      subtitle: 'Step 1 of 6',
      body: 'Technician dispatched',
      level: 'timeSensitive',
      group: 'order-42',
      id: 'app-1:order-42',
      url: 'https://repairs.example/orders/42',
    });
  });

  describe('level', () => {
    it('is active when the message gives no hint', () => {
      expect(pushOf(renderBark(message(), settings)).level).to.equal('active');
    });

    it('passes active, timeSensitive and passive through', () => {
      for (const level of ['active', 'timeSensitive', 'passive'] as const) {
        expect(pushOf(renderBark(message({ level }), settings)).level).to.equal(level);
      }
    });

    it('never sends critical or anything unknown: those become active', () => {
      for (const level of ['critical', 'CRITICAL', 'loud', '']) {
        const sneaky = { ...message(), level } as unknown as OutgoingMessage;
        expect(pushOf(renderBark(sneaky, settings)).level, level).to.equal('active');
      }
    });
  });

  describe('group and id', () => {
    it('uses the thread for the group and the app-scoped thread for the id, so the steps of one work order replace each other', () => {
      const steps = ['dispatched', 'departed', 'arrived', 'handled', 'awaiting review', 'closed'];
      const pushes = steps.map((body, index) =>
        pushOf(
          renderBark(message({ messageId: `msg-${index}`, thread: 'order-42', body }), settings),
        ),
      );
      expect(new Set(pushes.map((push) => push.id))).to.deep.equal(new Set(['app-1:order-42']));
      expect(new Set(pushes.map((push) => push.group))).to.deep.equal(new Set(['order-42']));
    });

    it('without a thread, groups by app name and identifies by message id', () => {
      const push = pushOf(renderBark(message(), settings));
      expect(push.group).to.equal('Repairs Desk');
      expect(push.id).to.equal('msg-0001');
    });

    it('treats an empty or blank thread as no thread, and a blank app name as its id', () => {
      for (const thread of ['', '   ']) {
        const push = pushOf(renderBark(message({ thread }), settings));
        expect(push).to.include({ group: 'Repairs Desk', id: 'msg-0001' });
      }
      expect(pushOf(renderBark(message({ appName: ' ' }), settings)).group).to.equal('app-1');
    });

    it('keeps an app-scoped thread id of exactly 64 bytes as it is', () => {
      const thread = 'x'.repeat(ID_LIMIT - 'app-1:'.length);
      expect(pushOf(renderBark(message({ thread }), settings)).id).to.equal(`app-1:${thread}`);
    });

    it("scopes a thread's id by app, so one app cannot replace or recall another's notification", () => {
      const mine = pushOf(renderBark(message({ thread: 'order-42' }), settings));
      const theirs = pushOf(renderBark(message({ thread: 'order-42', appId: 'app-2' }), settings));
      expect(mine.id).to.not.equal(theirs.id);
      expect(
        renderBarkRecall(message({ thread: 'order-42', appId: 'app-2' }), settings).body.id,
      ).to.equal(theirs.id);
    });

    it('hashes a longer thread into a stable id of at most 64 bytes, keeping the group', () => {
      // 30 Chinese characters: 90 bytes of UTF-8, although only 30 characters.
      const thread = '工单编号二零二五年一月十五日上午九点整北京市朝阳区望京街道十号';
      const first = pushOf(renderBark(message({ thread, messageId: 'a' }), settings));
      const second = pushOf(renderBark(message({ thread, messageId: 'b' }), settings));
      expect(bytes(first.id)).to.be.at.most(ID_LIMIT);
      expect(first.id).to.match(/^sha256-[A-Za-z0-9_-]{43}$/);
      expect(second.id).to.equal(first.id);
      expect(first.group).to.equal(thread);
      // sha256 of `app-1:` + the thread, base64url without padding, worked out outside the code.
      expect(first.id).to.equal('sha256-anvMEvWPE0w7CfYPFW-iG587-r6modec4255S11IQn8');
      expect(barkIdFor('y'.repeat(65))).to.equal(
        'sha256-xKJkngaKsY8LMySS9UGuC_ARrM7ylEJBwV0Tvjqj5iQ',
      );
      expect(barkIdFor('y'.repeat(66))).to.equal(
        'sha256-GIS-O_R-5-vgAgu84bLxSii8Z4oAHFgsjWPIL5jvMtE',
      );
    });

    it('hashes a message id longer than 64 bytes too', () => {
      const messageId = `msg-${'9'.repeat(80)}`;
      const push = pushOf(renderBark(message({ messageId }), settings));
      expect(bytes(push.id)).to.be.at.most(ID_LIMIT);
      expect(push.id).to.equal('sha256-6ye_Ty2qU5Y-7Bvqqt_9KCf0rC8wA50KuOFuETI_vTA');
    });
  });

  describe('optional fields', () => {
    it('passes the url on and leaves it out when there is none', () => {
      expect(pushOf(renderBark(message({ url: 'https://x.example/1' }), settings)).url).to.equal(
        'https://x.example/1',
      );
      expect(pushOf(renderBark(message(), settings))).to.not.have.property('url');
    });

    it('leaves out empty title and subtitle', () => {
      const push = pushOf(renderBark(message({ title: '', subtitle: '' }), settings));
      expect(push).to.not.have.property('title');
      expect(push).to.not.have.property('subtitle');
    });
  });

  describe('4 KiB payload cap', () => {
    const longChinese = '请在明天上午九点前到达现场并联系业主核实维修范围。'.repeat(150); // 3,750 chars

    it('leaves a message that fits untouched', () => {
      const body = '请在明天上午九点前到达现场。'.repeat(60); // 840 chars, 2,520 bytes
      expect(pushOf(renderBark(message({ body, title: '维修通知' }), settings)).body).to.equal(
        body,
      );
    });

    it('cuts a long Chinese body on a character boundary, ending with an ellipsis', () => {
      const push = pushOf(renderBark(message({ body: longChinese, title: '维修通知' }), settings));
      expect(push.body.endsWith('…')).to.equal(true);
      expect(longChinese.startsWith(push.body.slice(0, -1))).to.equal(true);
      expect(push.body.length).to.be.below(longChinese.length);
      expect(estimatePayloadBytes(apnsFields(push))).to.be.at.most(APNS_PAYLOAD_LIMIT);
      expect(apnsPayloadBytes(push)).to.be.at.most(APPLE_LIMIT);
      // Not cut more than needed: at most one character's worth of room is left unused.
      expect(estimatePayloadBytes(apnsFields(push))).to.be.above(APNS_PAYLOAD_LIMIT - 6);
      expect(push.title).to.equal('维修通知');
    });

    it('never cuts through an emoji (a surrogate pair)', () => {
      for (const pad of ['', 'a', 'ab', 'abc']) {
        const body = `${pad}${'🔧🚚✅'.repeat(800)}`;
        const push = pushOf(renderBark(message({ body }), settings));
        expect(wellFormed(push.body), pad).to.equal(true);
        expect(estimatePayloadBytes(apnsFields(push))).to.be.at.most(APNS_PAYLOAD_LIMIT);
        expect(apnsPayloadBytes(push)).to.be.at.most(APPLE_LIMIT);
      }
    });

    it('counts characters Go escapes (<, >, &) at their escaped size', () => {
      const push = pushOf(renderBark(message({ body: '<&>'.repeat(1500) }), settings));
      expect(push.body.endsWith('…')).to.equal(true);
      expect(bytes(push.body)).to.be.below(700);
    });

    it('cuts the subtitle and title, drops the url and shortens the group when the body is not enough', () => {
      const huge = '长'.repeat(2000);
      const push = pushOf(
        renderBark(
          message({
            title: huge,
            subtitle: huge,
            body: huge,
            url: `https://x.example/${'p'.repeat(5000)}`,
            thread: 't'.repeat(5000),
          }),
          settings,
        ),
      );
      expect(estimatePayloadBytes(apnsFields(push))).to.be.at.most(APNS_PAYLOAD_LIMIT);
      expect(apnsPayloadBytes(push)).to.be.at.most(APPLE_LIMIT);
      expect(push).to.not.have.property('url');
      expect(push.body).to.equal('…');
      expect(push.id).to.equal('sha256-cjTiVYR8ZaB48SBCrS40z_ZO0uisz0EtTk3o399kJQM');
      expect(push.group).to.equal(push.id);
    });
  });

  describe('recall', () => {
    it('renders { device_key, id, delete: "1" } and nothing else', () => {
      const request = renderBarkRecall(message({ thread: 'order-42' }), settings);
      expect(request.url).to.equal('https://bark.example/push');
      expect(request.body).to.deep.equal({
        device_key: 'k3yOfTheDevice',
        id: 'app-1:order-42',
        delete: '1',
      });
    });

    it('uses the very id the push had: thread, message id, or the hash of a long thread', () => {
      const cases = [
        { overrides: { thread: 'order-42' }, id: 'app-1:order-42' },
        { overrides: {}, id: 'msg-0001' },
        {
          overrides: { thread: '长'.repeat(40) },
          id: 'sha256-tFMZHoo_ZPQ3a1NfF_AYpO6k_MxZQW4AaJGdSzWdFPA',
        },
      ];
      for (const { overrides, id } of cases) {
        const push = pushOf(renderBark(message(overrides), settings));
        const recall = renderBarkRecall(message(overrides), settings).body;
        expect(push.id).to.equal(id);
        expect(recall.id).to.equal(id);
      }
    });

    it('is what the channel renders for recall', () => {
      expect(barkChannel.renderRecall?.(message(), settings)).to.deep.equal({
        url: 'https://bark.example/push',
        body: { device_key: 'k3yOfTheDevice', id: 'msg-0001', delete: '1' },
      });
    });
  });
});
