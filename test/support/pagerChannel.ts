import type { Channel, OutgoingMessage, SendOutcome } from '../../channels/channel.js';
import type { Device, DeviceSettings } from '../../domain/recipient/recipientDevices.js';

/**
 * A channel of a kind Tidings does not ship (`pager`), for tests that prove routing and delivery
 * name no kind: whatever reaches a pager device went through the registry and the device view.
 */
export interface PagerChannel extends Channel<DeviceSettings, PagerRequest> {
  /** Every request sent, in order. */
  readonly sent: PagerRequest[];
  /** What the next sends answer; delivered unless set. */
  answer: SendOutcome;
}

/** What the pager channel renders: the message and the settings of the device it goes to. */
export interface PagerRequest {
  readonly messageId: string;
  readonly body: string;
  readonly settings: DeviceSettings;
}

/** A fresh pager channel that records what it sends and answers `answer`. */
export const pagerChannel = (): PagerChannel => {
  const channel: PagerChannel = {
    kind: 'pager',
    name: 'Pager',
    settings: [
      {
        name: 'number',
        description: 'the pager number',
        type: 'string',
        secret: false,
        required: true,
      },
    ],
    sent: [],
    answer: { kind: 'delivered' },
    render: (message: OutgoingMessage, settings: DeviceSettings) => ({
      messageId: message.messageId,
      body: message.body,
      settings,
    }),
    send: (request: PagerRequest) => {
      channel.sent.push(request);
      return Promise.resolve(channel.answer);
    },
  };
  return channel;
};

/** A person's pager device, as the recipients read model's device view would answer it. */
export const pagerDevice = (broken?: string): Device => ({
  kind: 'pager',
  settings: { number: '555-0100' },
  ...(broken === undefined ? {} : { broken }),
});
