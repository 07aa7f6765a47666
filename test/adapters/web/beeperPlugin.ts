import { fileURLToPath } from 'node:url';
import type {
  Channel,
  OutgoingMessage,
  SendOutcome,
  SettingValues,
} from '../../../channels/channel.js';

/**
 * A channel plugin module of a kind Tidings does not ship (`beeper`), loaded by the devices page
 * tests through `TIDINGS_CHANNEL_PLUGINS` as any outside plugin is. It declares one setting of
 * every type (and a secret, a default, an optional one), so a form that works for it is a form
 * drawn from the declaration, not from code that knows the kind.
 *
 * What the server sends is in {@link beeperSent} for the test to read. The loader imports this
 * file by its path and the test by its relative name, which the TypeScript loader may treat as
 * two modules, so the list lives on `globalThis` under a registered symbol that both share.
 */

/** What the beeper channel renders: the message and the device's settings. */
export interface BeeperPage {
  readonly messageId: string;
  readonly title: string | undefined;
  readonly body: string;
  readonly settings: SettingValues;
}

const SENT = Symbol.for('tidings.test.beeperSent');
const shared = globalThis as unknown as Record<symbol, BeeperPage[] | undefined>;

/** Every page sent, in order, across the servers of one test run. */
export const beeperSent: BeeperPage[] = (shared[SENT] ??= []);

/** The module's path, for `TIDINGS_CHANNEL_PLUGINS`. */
export const BEEPER_PLUGIN = fileURLToPath(import.meta.url);

const beeper: Channel<SettingValues, BeeperPage> = {
  kind: 'beeper',
  name: 'Beeper (test plugin)',
  settings: [
    {
      name: 'number',
      description: 'The pager number to call',
      type: 'phone',
      secret: false,
      required: true,
    },
    {
      name: 'gatewayUrl',
      description: 'The paging gateway',
      type: 'url',
      secret: false,
      required: false,
      default: 'https://beeper.example',
    },
    {
      name: 'pin',
      description: 'The PIN the gateway asks for',
      type: 'string',
      pattern: '[0-9]{4,8}',
      secret: true,
      required: true,
    },
    {
      name: 'priority',
      description: 'From 1 (low) to 5 (urgent)',
      type: 'integer',
      secret: false,
      required: false,
      default: 3,
    },
    {
      name: 'loud',
      description: 'Ring even when the pager is set to silent',
      type: 'boolean',
      secret: false,
      required: false,
      default: false,
    },
    {
      name: 'copyTo',
      description: 'Also send a copy to this address',
      type: 'email',
      secret: false,
      required: false,
    },
  ],
  render: (message: OutgoingMessage, settings: SettingValues): BeeperPage => ({
    messageId: message.messageId,
    title: message.title,
    body: message.body,
    settings,
  }),
  send: (page: BeeperPage): Promise<SendOutcome> => {
    beeperSent.push(page);
    return Promise.resolve({ kind: 'delivered' });
  },
};

export default beeper;
