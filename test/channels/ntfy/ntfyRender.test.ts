import { expect } from 'chai';
import type { OutgoingMessage } from '../../../channels/channel.js';
import {
  NTFY_DEFAULT_SERVER,
  ntfyChannel,
  renderNtfy,
  renderNtfyRecall,
  type NtfyRequest,
  type NtfySettings,
} from '../../../channels/ntfy/ntfyChannel.js';
import { fitMessage, NTFY_MESSAGE_LIMIT_BYTES } from '../../../channels/ntfy/ntfyMessage.js';
import { NTFY_ID_PATTERN, ntfySequenceIdFor } from '../../../channels/ntfy/ntfySequenceId.js';

const settings: NtfySettings = { serverUrl: 'https://ntfy.example', topic: 'repairs_7f3a' };

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  title: 'Order 42',
  body: 'Technician dispatched',
  ...overrides,
});

const published = (request: NtfyRequest) => {
  if (request.kind !== 'publish') throw new Error(`expected a publish, got ${request.kind}`);
  return request;
};

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('ntfy channel: render', () => {
  it("declares kind, name and the three settings, the topic by ntfy's rule, the token secret", () => {
    expect(ntfyChannel.kind).to.equal('ntfy');
    expect(ntfyChannel.name).to.equal('ntfy (Android, iOS, web)');
    expect(ntfyChannel.settings).to.deep.equal([
      {
        name: 'serverUrl',
        description: 'Base URL of the ntfy server; https://ntfy.sh unless you run your own',
        type: 'url',
        secret: false,
        required: false,
        default: 'https://ntfy.sh',
      },
      {
        name: 'topic',
        description:
          'The topic your ntfy app subscribes to: 1–64 letters, digits, "-" or "_"; hard to guess, since anyone who knows it can read it',
        type: 'string',
        pattern: '[A-Za-z0-9_\\-]{1,64}',
        secret: false,
        required: true,
      },
      {
        name: 'token',
        description: 'An access token (tk_…) when the topic is protected',
        type: 'string',
        secret: true,
        required: false,
      },
    ]);
    const m = message({ thread: 'order-42' });
    expect(ntfyChannel.render(m, settings)).to.deep.equal(renderNtfy(m, settings));
    expect(ntfyChannel.renderRecall?.(m, settings)).to.deep.equal(renderNtfyRecall(m, settings));
  });

  it('renders the JSON publish to {serverUrl}/ exactly, without a token when none is set', () => {
    expect(renderNtfy(message({ url: 'https://desk.example/o/42' }), settings)).to.deep.equal({
      kind: 'publish',
      url: 'https://ntfy.example/',
      body: {
        topic: 'repairs_7f3a',
        message: 'Technician dispatched',
        title: 'Order 42',
        priority: 3,
        tags: ['Repairs Desk'],
        click: 'https://desk.example/o/42',
        sequence_id: 'msg-0001',
      },
    });
  });

  it('maps the level hint to a priority: timeSensitive 4, active 3, passive 2, none 3', () => {
    const cases: [OutgoingMessage['level'], number][] = [
      ['timeSensitive', 4],
      ['active', 3],
      ['passive', 2],
      [undefined, 3],
    ];
    for (const [level, priority] of cases) {
      const overrides = level === undefined ? {} : { level };
      expect(
        published(renderNtfy(message(overrides), settings)).body.priority,
        String(level),
      ).to.equal(priority);
    }
    // A level outside the contract (a plugin or an old event) is never max (5).
    const odd = { ...message(), level: 'critical' } as unknown as OutgoingMessage;
    expect(published(renderNtfy(odd, settings)).body.priority).to.equal(3);
  });

  it('sends an app name with commas as one tag, its commas spaces (ntfy splits tags on commas)', () => {
    const tagsOf = (appName: string) =>
      published(renderNtfy(message({ appName }), settings)).body.tags;
    expect(tagsOf('Acme, Inc.')).to.deep.equal(['Acme Inc.']);
    expect(tagsOf('a,b ,, c')).to.deep.equal(['a b c']);
    expect(tagsOf(' , ')).to.equal(undefined);
  });

  it('leaves out an empty title, url and app name, and puts a subtitle before the body', () => {
    const body = published(
      renderNtfy(message({ title: '', url: '', appName: '  ', subtitle: 'Step 2 of 6' }), settings),
    ).body;
    expect(body).to.deep.equal({
      topic: 'repairs_7f3a',
      message: 'Step 2 of 6\n\nTechnician dispatched',
      priority: 3,
      sequence_id: 'msg-0001',
    });
  });

  it('uses ntfy.sh when serverUrl is absent or empty, and drops trailing slashes', () => {
    expect(published(renderNtfy(message(), { topic: 'repairs_7f3a' })).url).to.equal(
      `${NTFY_DEFAULT_SERVER}/`,
    );
    expect(published(renderNtfy(message(), { ...settings, serverUrl: '' })).url).to.equal(
      'https://ntfy.sh/',
    );
    expect(
      published(renderNtfy(message(), { ...settings, serverUrl: 'https://h.example/ntfy//' })).url,
    ).to.equal('https://h.example/ntfy/');
  });

  it('carries the token when set, and not when it is empty', () => {
    expect(published(renderNtfy(message(), { ...settings, token: 'tk_abc' })).token).to.equal(
      'tk_abc',
    );
    expect(published(renderNtfy(message(), { ...settings, token: '' }))).to.not.have.property(
      'token',
    );
  });

  it('renders a topic outside ntfy’s rule as invalid, without quoting it', () => {
    for (const topic of ['', 'has space', 'a/b', 'ünïcode', 'x'.repeat(65), '工单']) {
      const rendered = renderNtfy(message(), { ...settings, topic });
      expect(rendered.kind, JSON.stringify(topic)).to.equal('invalid');
      expect(renderNtfyRecall(message(), { ...settings, topic }).kind).to.equal('invalid');
      if (rendered.kind === 'invalid' && topic !== '') {
        expect(rendered.reason).to.not.include(topic);
      }
    }
    expect(renderNtfy(message(), { ...settings, topic: 'x'.repeat(64) }).kind).to.equal('publish');
  });

  it('is deterministic: the same message and settings give the same request', () => {
    const m = message({ thread: '工单 42', level: 'passive', url: 'https://x.example' });
    expect(renderNtfy(m, settings)).to.deep.equal(renderNtfy(m, settings));
    expect(renderNtfyRecall(m, settings)).to.deep.equal(renderNtfyRecall(m, settings));
  });

  describe('sequence ids', () => {
    it('scope a thread by the app and hash it into ntfy’s alphabet, so steps share one id', () => {
      const first = ntfySequenceIdFor(message({ messageId: 'm1', thread: 'order-42' }));
      const later = ntfySequenceIdFor(message({ messageId: 'm2', thread: 'order-42' }));
      expect(first).to.equal(later);
      expect(first).to.match(/^t-[-_A-Za-z0-9]{43}$/);
      expect(ntfySequenceIdFor(message({ appId: 'app-2', thread: 'order-42' }))).to.not.equal(
        first,
      );
      expect(ntfySequenceIdFor(message({ thread: 'order-43' }))).to.not.equal(first);
    });

    it('fit ntfy’s rule for Chinese text, punctuation and very long threads', () => {
      const threads = [
        '工单-2025-0042：北京朝阳区维修',
        'order 42 / step #3 ?&=',
        '长'.repeat(128),
        'x'.repeat(10_000),
        '😀'.repeat(40),
      ];
      const ids = threads.map((thread) => ntfySequenceIdFor(message({ thread })));
      for (const id of ids) expect(id).to.match(NTFY_ID_PATTERN);
      expect(new Set(ids).size).to.equal(threads.length);
    });

    it('do not let the app id and the thread be split differently into one id', () => {
      const a = ntfySequenceIdFor(message({ appId: 'a', thread: 'b:c' }));
      const b = ntfySequenceIdFor(message({ appId: 'a:b', thread: 'c' }));
      expect(a).to.not.equal(b);
      expect(ntfySequenceIdFor(message({ appId: 'app_1', thread: 'x' }))).to.not.equal(
        ntfySequenceIdFor(message({ appId: 'app', thread: '1_x' })),
      );
    });

    it('use the message id when there is no thread (or a blank one) and ntfy accepts it', () => {
      expect(ntfySequenceIdFor(message())).to.equal('msg-0001');
      expect(ntfySequenceIdFor(message({ thread: '  ' }))).to.equal('msg-0001');
      expect(published(renderNtfy(message({ thread: '' }), settings)).body.sequence_id).to.equal(
        'msg-0001',
      );
    });

    it('hash a message id ntfy would refuse, or one that looks derived', () => {
      for (const messageId of ['msg:1', 'x'.repeat(65), 't-abc', 'm-abc']) {
        const id = ntfySequenceIdFor(message({ messageId }));
        expect(id, messageId).to.match(/^m-[-_A-Za-z0-9]{43}$/);
      }
    });

    it('are the same for a delivery and its recall', () => {
      for (const thread of [undefined, 'order-42', '工单 42']) {
        const m = message(thread === undefined ? {} : { thread });
        const sequenceId = published(renderNtfy(m, settings)).body.sequence_id;
        expect(renderNtfyRecall(m, { ...settings, token: 'tk_1' })).to.deep.equal({
          kind: 'delete',
          url: `https://ntfy.example/repairs_7f3a/${sequenceId}`,
          token: 'tk_1',
        });
      }
    });
  });

  describe('the 4,096-byte message limit', () => {
    it('keeps a message that fits unchanged, to the byte', () => {
      const exact = 'a'.repeat(NTFY_MESSAGE_LIMIT_BYTES);
      expect(fitMessage(exact)).to.equal(exact);
    });

    it('cuts a longer one at a code-point boundary, ending with …, within the limit', () => {
      for (const unit of ['a', '长', '😀', 'é']) {
        const text = unit.repeat(5_000);
        const fitted = published(renderNtfy(message({ body: text }), settings)).body.message;
        expect(fitted.endsWith('…'), unit).to.equal(true);
        expect(bytes(fitted)).to.be.at.most(NTFY_MESSAGE_LIMIT_BYTES);
        expect(bytes(fitted)).to.be.above(NTFY_MESSAGE_LIMIT_BYTES - 8);
        // No half surrogate pair and no replacement character: the cut is clean.
        expect(fitted.slice(0, -1)).to.equal(unit.repeat(Array.from(fitted).length - 1));
      }
    });

    it('counts the subtitle in the limit', () => {
      const fitted = published(
        renderNtfy(message({ subtitle: '步骤', body: '长'.repeat(2_000) }), settings),
      ).body.message;
      expect(fitted.startsWith('步骤\n\n')).to.equal(true);
      expect(bytes(fitted)).to.be.at.most(NTFY_MESSAGE_LIMIT_BYTES);
    });
  });
});
