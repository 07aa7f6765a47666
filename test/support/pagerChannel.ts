import type {
  Channel,
  OutgoingMessage,
  SendOutcome,
  SettingValues,
} from '../../channels/channel.js';
import type { DeviceView } from '../../projections/recipients/recipientQueries.js';
import { testSecretBox } from './testSecretBox.js';

/**
 * A channel of a kind Tidings does not ship (`pager`), for tests that prove routing and delivery
 * name no kind: whatever reaches a pager device went through the registry and the device view.
 * Its `pin` is secret, so a test also sees that sealed secrets are opened before `render`.
 */
export interface PagerChannel extends Channel<SettingValues, PagerRequest> {
  /** Every request sent, in order. */
  readonly sent: PagerRequest[];
  /** What the next sends answer; delivered unless set. */
  answer: SendOutcome;
}

/** What the pager channel renders: the message and the settings of the device it goes to. */
export interface PagerRequest {
  readonly messageId: string;
  readonly body: string;
  readonly settings: SettingValues;
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
      {
        name: 'pin',
        description: 'the pager service PIN',
        type: 'string',
        secret: true,
        required: false,
      },
    ],
    sent: [],
    answer: { kind: 'delivered' },
    render: (message: OutgoingMessage, settings: SettingValues) => ({
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

/** The id of the pager device {@link pagerDevice} makes unless told otherwise. */
export const PAGER_DEVICE_ID = 'dev_pager000000000000000';

/** The clear settings of {@link pagerDevice}: what its channel must be given. */
export const PAGER_SETTINGS = { number: '555-0100', pin: '4711' } as const;

/**
 * A person's pager device, as the recipients read model's device view would answer it, its PIN
 * sealed with {@link testSecretBox}.
 */
export const pagerDevice = (broken?: string, deviceId: string = PAGER_DEVICE_ID): DeviceView => ({
  deviceId,
  kind: 'pager',
  name: 'Pager',
  settings: { number: PAGER_SETTINGS.number },
  secrets: { pin: testSecretBox.seal(PAGER_SETTINGS.pin) },
  clearSecrets: {},
  fingerprint: testSecretBox.fingerprint(PAGER_SETTINGS),
  ...(broken === undefined ? {} : { broken }),
  createdAt: '2025-03-01T11:00:00.000Z',
});
