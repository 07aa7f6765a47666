import { expect } from 'chai';
import {
  exportJson,
  exportPerson,
  type ExportSources,
} from '../../../application/export/exportPerson.js';
import type { Channel } from '../../../channels/channel.js';
import type { InboxPosition } from '../../../projections/export/exportQueries.js';
import type { InboxRow } from '../../../projections/messages/messageQueries.js';
import type { DeliveryRow } from '../../../projections/messages/messagesProjection.js';
import { DEFAULT_PREFERENCES } from '../../../domain/recipient/recipientPreferences.js';

const NOW = '2026-03-04T05:06:07.000Z';

/** A message of the person's inbox, the `n`th newest being `msg_<n>`. */
const row = (n: number): InboxRow =>
  ({
    message_id: `msg_${String(n).padStart(3, '0')}`,
    app_id: 'app_1',
    app_name: 'Work orders',
    binding_id: 'bnd_1',
    recipient_id: 'rcp_1',
    title: `Step ${n}`,
    subtitle: null,
    body: `body ${n}\nwith "quotes"`,
    url: null,
    thread: 'order-1',
    level: null,
    deliver_at: null,
    status: 'delivered',
    moderation_policy: null,
    moderation_reason: null,
    suppressed_reason: null,
    routed_channels: null,
    inbox_only: null,
    created_at: `2026-03-04T00:00:${String(60 - n).padStart(2, '0')}.000Z`,
    updated_at: NOW,
    inbox_at: `2026-03-04T00:00:${String(60 - n).padStart(2, '0')}.000Z`,
    read_at: null,
    archived_at: null,
    correlation_id: null,
    routed_by: null,
  }) as InboxRow;

/** Sources over `count` messages, recording every page and delivery read. */
const sources = (count: number, pageSize: number) => {
  const inbox = Array.from({ length: count }, (_, index) => row(index + 1));
  const pages: (InboxPosition | undefined)[] = [];
  const deliveryReads: string[][] = [];
  const pin: Channel['settings'][number] = {
    name: 'pin',
    description: 'PIN',
    type: 'string',
    secret: true,
    required: true,
  };
  const given: ExportSources = {
    pageSize,
    recipients: {
      byId: (id) =>
        id === 'rcp_1'
          ? {
              recipient_id: 'rcp_1',
              username: 'amin',
              password_hash: 'scrypt$never-exported',
              registered_at: '2026-01-01T00:00:00.000Z',
            }
          : undefined,
      preferences: () => DEFAULT_PREFERENCES,
      devices: () => [
        {
          deviceId: 'dev_1',
          kind: 'pager',
          name: 'Night pager',
          // Saved before the plugin declared `pin` secret: in clear among the settings.
          settings: { number: '+447700900123', pin: '4711' },
          secrets: { token: 'sealed:abc' },
          clearSecrets: {},
          fingerprint: 'fp-never-exported',
          createdAt: '2026-01-02T00:00:00.000Z',
        },
      ],
    },
    complaints: { ofRecipient: () => [] },
    apps: { byId: () => undefined },
    channels: {
      get: (kind) =>
        kind === 'pager' ? ({ kind, settings: [pin] } as unknown as Channel) : undefined,
    },
    history: {
      bindingsOf: () => [],
      inboxPage: (_recipientId, after, limit) => {
        pages.push(after);
        const start =
          after === undefined ? 0 : inbox.findIndex((m) => m.message_id === after.messageId) + 1;
        return inbox.slice(start, start + limit);
      },
      deliveriesOf: (ids) => {
        deliveryReads.push([...ids]);
        return ids.map((id): DeliveryRow => ({
          message_id: id,
          channel: 'pager:dev_1',
          status: 'delivered',
          attempts: 1,
          last_error: null,
          retry_at: null,
          delivered_at: NOW,
        }));
      },
    },
  };
  return { given, pages, deliveryReads };
};

describe('the data export (application/export/exportPerson.ts)', () => {
  it('reads the inbox a page at a time, each page after the last, one delivery read per page', () => {
    const { given, pages, deliveryReads } = sources(5, 2);
    const exported = exportPerson(given)('rcp_1', NOW);
    expect(pages, 'nothing is read before the inbox is written').to.deep.equal([]);
    const document = JSON.parse([...exportJson(exported!)].join('')) as {
      inbox: { messageId: string; deliveries: unknown[] }[];
    };
    expect(document.inbox.map((m) => m.messageId)).to.deep.equal([
      'msg_001',
      'msg_002',
      'msg_003',
      'msg_004',
      'msg_005',
    ]);
    expect(pages.map((after) => after?.messageId)).to.deep.equal([undefined, 'msg_002', 'msg_004']);
    expect(deliveryReads).to.deep.equal([
      ['msg_001', 'msg_002'],
      ['msg_003', 'msg_004'],
      ['msg_005'],
    ]);
    expect(document.inbox[0]?.deliveries).to.deep.equal([
      { channel: 'pager', deviceId: 'dev_1', status: 'delivered', attempts: 1, deliveredAt: NOW },
    ]);
  });

  it('stops after a full last page with one more read that finds nothing', () => {
    const { given, pages } = sources(4, 2);
    const chunks = [...exportJson(exportPerson(given)('rcp_1', NOW)!)];
    expect(pages.map((after) => after?.messageId)).to.deep.equal([undefined, 'msg_002', 'msg_004']);
    // The head, one chunk per page with messages, the end.
    expect(chunks).to.have.length(4);
  });

  it('writes one valid, indented JSON document, also for an empty inbox', () => {
    const { given } = sources(0, 2);
    const text = [...exportJson(exportPerson(given)('rcp_1', NOW)!)].join('');
    const document = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(document)).to.deep.equal([
      'format',
      'exportedAt',
      'account',
      'preferences',
      'bindings',
      'devices',
      'complaints',
      'inbox',
    ]);
    expect(document).to.deep.include({
      format: 'tidings-export/1',
      exportedAt: NOW,
      account: { recipientId: 'rcp_1', username: 'amin', createdAt: '2026-01-01T00:00:00.000Z' },
      inbox: [],
    });
    expect(text).to.match(/^\{\n {2}"format"/);
    const full = [...exportJson(exportPerson(sources(3, 2).given)('rcp_1', NOW)!)].join('');
    expect(JSON.parse(full)).to.have.nested.property('inbox[2].body', 'body 3\nwith "quotes"');
    expect(full).to.include('\n    {\n      "messageId": "msg_001"');
  });

  it('masks every secret setting, also one its channel declared secret after it was saved', () => {
    const { given } = sources(0, 2);
    const text = [...exportJson(exportPerson(given)('rcp_1', NOW)!)].join('');
    const document = JSON.parse(text) as { devices: { settings: Record<string, unknown> }[] };
    expect(document.devices[0]?.settings).to.deep.equal({
      number: '+447700900123',
      pin: '********',
      token: '********',
    });
    for (const secret of ['4711', 'sealed:abc', 'fp-never-exported', 'scrypt$never-exported']) {
      expect(text).to.not.include(secret);
    }
  });

  it('is undefined for an account that does not exist', () => {
    expect(exportPerson(sources(0, 2).given)('rcp_gone', NOW)).to.equal(undefined);
  });
});
