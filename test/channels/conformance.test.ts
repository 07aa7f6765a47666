import { expect } from 'chai';
import type { BarkRequest, BarkSettings } from '../../channels/bark/barkChannel.js';
import type { Channel } from '../../channels/channel.js';
import {
  describeChannelConformance,
  type ConformanceFixtures,
} from '../../channels/conformance/conformance.js';
import { builtInChannels } from '../../channels/index.js';

const bark: ConformanceFixtures<BarkSettings, BarkRequest> = {
  settings: { serverUrl: 'https://bark.example', deviceKey: 'k3yOfThePersonsPhone' },
  okAnswer: { body: JSON.stringify({ code: 200, message: 'success', timestamp: 1740830400 }) },
  notificationOf: (rendered) => rendered.body.id,
};

/**
 * The fixtures of every built-in channel, by kind. A channel added to `builtInChannels` without
 * an entry here fails this suite: every built-in channel passes the kit.
 */
const fixtures: Readonly<Record<string, ConformanceFixtures<never, never>>> = {
  inbox: { settings: {} as never, transport: 'none' },
  bark: bark as unknown as ConformanceFixtures<never, never>,
};

describe('every built-in channel passes the conformance kit (a built-in channel without fixtures here FAILS)', () => {
  for (const channel of builtInChannels) {
    const fixture = fixtures[channel.kind];
    if (fixture === undefined) {
      it(`built-in channel ${channel.kind} has conformance fixtures in test/channels/conformance.test.ts`, () => {
        expect.fail(
          `add fixtures for ${channel.kind} to the table in test/channels/conformance.test.ts`,
        );
      });
      continue;
    }
    describeChannelConformance(channel as Channel<never, never>, fixture);
  }
});
