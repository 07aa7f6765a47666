import { expect } from 'chai';
import type { BarkRequest, BarkSettings } from '../../channels/bark/barkChannel.js';
import type { Channel } from '../../channels/channel.js';
import {
  describeChannelConformance,
  type ConformanceFixtures,
  type ScenarioName,
} from '../../channels/conformance/conformance.js';
import { createEmailChannel } from '../../channels/email/emailChannel.js';
import type { EmailSettings } from '../../channels/email/emailRender.js';
import type {
  MailAddress,
  MailResult,
  MailTransport,
  RenderedMail,
} from '../../channels/email/mailTransport.js';
import {
  builtInChannels,
  configuredChannels,
  type ConfiguredChannelOptions,
} from '../../channels/index.js';
import type { NtfyRequest, NtfySettings } from '../../channels/ntfy/ntfyChannel.js';
import type { SmsRequest, SmsSettings } from '../../channels/sms/smsChannel.js';
import type { WebhookRequest, WebhookSettings } from '../../channels/webhook/webhookChannel.js';

/** The table's entries lose their types: each channel is checked against its own fixtures. */
type AnyFixtures = ConformanceFixtures<never, never>;
const untyped = <Settings, Rendered>(fixtures: ConformanceFixtures<Settings, Rendered>) =>
  fixtures as unknown as AnyFixtures;

const bark: ConformanceFixtures<BarkSettings, BarkRequest> = {
  settings: { serverUrl: 'https://bark.example', deviceKey: 'k3yOfThePersonsPhone' },
  okAnswer: { body: JSON.stringify({ code: 200, message: 'success', timestamp: 1740830400 }) },
  notificationOf: (rendered) => rendered.body.id,
};

/**
 * ntfy's every scenario maps as the kit expects (docs/ntfy.md "Answers": 5xx and 429 failed after
 * `Retry-After`, 400 and 404 rejected, the guard's refusal rejected), so there are no
 * `expectations`.
 */
const ntfy: ConformanceFixtures<NtfySettings, NtfyRequest> = {
  settings: {
    serverUrl: 'https://ntfy.example',
    topic: 'repairs_7f3a',
    token: 'tk_personsToken01',
  },
  // docs/ntfy.md "Answers": only a 200 with ntfy's message JSON is delivered; the kit's default
  // `{}` would be "not ntfy speaking" (failed).
  okAnswer: {
    body: JSON.stringify({
      id: 'hwQ2YpKdmg',
      time: 1740830400,
      expires: 1740873600,
      event: 'message',
      topic: 'repairs_7f3a',
      message: 'Order 1042 was dispatched',
    }),
  },
  // The notification is (server, topic, sequence id): a publish names the topic in its body and
  // the sequence id in `sequence_id`; a recall deletes `{serverUrl}/{topic}/{sequenceId}`. So the
  // check holds the recall to the very server, topic and sequence id of the publish.
  notificationOf: (rendered) => {
    switch (rendered.kind) {
      case 'publish':
        return `${rendered.url}${rendered.body.topic}/${rendered.body.sequence_id}`;
      case 'delete':
        return rendered.url;
      case 'invalid':
        return undefined;
      default: {
        const _exhaustive: never = rendered;
        return _exhaustive;
      }
    }
  },
};

/** A Standard Webhooks secret: `whsec_` and base64 of 32 bytes. */
const whsec = (text: string): string =>
  `whsec_${Buffer.from(text.padEnd(32, '.')).toString('base64')}`;

/**
 * The webhook's every scenario maps as the kit expects (docs/webhook.md "Your answer": 5xx and
 * 429 retried after `Retry-After`, 400 `bad_request` and 404 `misconfigured`, both rejected), so
 * there are no `expectations`.
 */
const webhook: ConformanceFixtures<WebhookSettings, WebhookRequest> = {
  settings: { url: 'https://automation.example/hooks/tidings', secret: whsec('the persons key') },
  // The kit's own marker is not base64 of 24–64 bytes: with it the channel would rightly refuse
  // to sign and send nothing, and the secrets check would see no real attempt. The secret is
  // given without its `whsec_` prefix (webhookSecret.ts takes that form, as the Standard Webhooks
  // libraries do): the request holds only the decoded key, so the leak to fear is the key in
  // base64, which is this value, and a logged `whsec_…` setting holds it too.
  secretSettings: {
    url: 'https://automation.example/hooks/tidings',
    secret: whsec('tidingsSecretMarkerWebhookKey').slice('whsec_'.length),
  },
  // A recall is another event by design (`rcl_…` where the delivery was `msg_…`, docs/webhook.md
  // "Headers"), so the event id cannot be compared. What a `message.recalled` event addresses is
  // the message in its `data.messageId`, at the same endpoint.
  notificationOf: (rendered) => [rendered.url, rendered.event.data.messageId],
};

/** Every built-in channel's fixtures, by kind. */
const builtInFixtures: Readonly<Record<string, AnyFixtures>> = {
  inbox: { settings: {} as never, transport: 'none' },
  bark: untyped(bark),
  ntfy: untyped(ntfy),
  webhook: untyped(webhook),
};

/**
 * The operator's settings of every channel `configuredChannels` can build. `Required`, so a new
 * option there does not compile here until it has test settings, and its channel then needs
 * fixtures below.
 */
const testConfiguration: Required<ConfiguredChannelOptions> = {
  sms: { gatewayUrl: 'https://sms-gateway.example/send', token: 'operatorsGatewayToken' },
};

/**
 * The SMS gateway's every scenario maps as the kit expects (docs/sms.md "The answer": 5xx and 429
 * failed after `Retry-After`, 400 `bad_request` and 404 `misconfigured`, both rejected), so there
 * are no `expectations`. Its one setting, the number, is personal data but not a secret; the
 * gateway token is the operator's option, not a setting (test/channels/sms/smsSend.test.ts keeps
 * both out of the logs).
 */
const sms: ConformanceFixtures<SmsSettings, SmsRequest> = {
  settings: { phone: '+8613800138000' },
  okAnswer: { status: 202, body: JSON.stringify({ id: 'gw-1' }) },
};

const FROM: MailAddress = { address: 'tidings@example.com', name: 'Tidings' };

/**
 * What an SMTP server does in each of the kit's scenarios, as a {@link MailResult}; undefined for
 * a scenario that cannot happen over SMTP.
 */
const mailResultOf = (scenario: ScenarioName): MailResult | undefined => {
  switch (scenario) {
    case 'network error':
      return { kind: 'failed', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.1.1.1:587' };
    case 'timeout':
      return { kind: 'timed_out', timeoutMs: 10_000 };
    case 'guard refusal':
      // The SMTP server is the operator's, not a person's URL: no outbound guard stands before it
      // (docs/email.md "No outbound guard"), so nothing can refuse it.
      return undefined;
    case '500':
      // A server error that may pass: SMTP says "try later" with 4xx (451 local error).
      return {
        kind: 'answered',
        stage: 'data',
        code: 451,
        text: '4.3.0 Local error in processing',
      };
    case '503':
      // A server that is unavailable for now: 421, closing the channel at the greeting.
      return {
        kind: 'answered',
        stage: 'connect',
        code: 421,
        text: '4.3.2 Service not available, closing transmission channel',
      };
    case '429 with Retry-After seconds':
    case '429 with Retry-After date':
      // These scenarios test that the peer's `Retry-After` is honoured. SMTP has none: its
      // throttling replies (421 or 450 4.7.x "try again later") carry no time, so the delivery
      // worker's backoff decides, and a transient 4xx is already played by 500 and 503 above.
      return undefined;
    case '400':
      // This mail refused as it is, for good: content rejected at the end of DATA.
      return { kind: 'answered', stage: 'data', code: 554, text: '5.6.0 Message content rejected' };
    case '404':
      // No such recipient: the mailbox is unknown at RCPT TO.
      return { kind: 'answered', stage: 'recipient', code: 550, text: '5.1.1 User unknown' };
    case 'success':
      return { kind: 'delivered' };
    default: {
      const _exhaustive: never = scenario;
      return _exhaustive;
    }
  }
};

/** A transport that answers every mail with what an SMTP server does in `scenario`. */
const scriptedMailTransport = (result: MailResult): MailTransport => ({
  send: () => Promise.resolve(result),
});

/** The `email` channel on a transport scripted for `scenario`; undefined when SMTP cannot. */
const emailFor = (scenario: ScenarioName): Channel<EmailSettings, RenderedMail> | undefined => {
  const result = mailResultOf(scenario);
  return result === undefined
    ? undefined
    : createEmailChannel({ transport: scriptedMailTransport(result), from: FROM });
};

/**
 * The email channel's scenarios map as the kit expects (docs/email.md "Outcomes": any 4xx
 * failed, 5xx rejected, no reply or no connection failed), so there are no `expectations`. Its one
 * setting, the address, is personal data but not a secret (emailSend.test.ts keeps it out of the
 * logs).
 */
const email: ConformanceFixtures<EmailSettings, RenderedMail> = {
  settings: { address: 'person@example.org' },
  transport: emailFor,
};

/**
 * The channels offered only when the operator configured them, built with test settings: those of
 * `configuredChannels`, and `email`, which composition/emailChannel.ts builds because its SMTP
 * transport is an adapter (docs/email.md).
 */
const channelsOfferedWhenConfigured: readonly Channel[] = [
  ...configuredChannels(testConfiguration),
  createEmailChannel({ transport: scriptedMailTransport({ kind: 'delivered' }), from: FROM }),
];

/** Every configured channel's fixtures, by kind. */
const configuredFixtures: Readonly<Record<string, AnyFixtures>> = {
  sms: untyped(sms),
  email: untyped(email),
};

/** One conformance suite per channel, or a failing test for a channel without fixtures. */
const describeEach = (
  channels: readonly Channel[],
  fixtures: Readonly<Record<string, AnyFixtures>>,
): void => {
  for (const channel of channels) {
    const fixture = fixtures[channel.kind];
    if (fixture === undefined) {
      it(`channel ${channel.kind} has conformance fixtures in test/channels/conformance.test.ts`, () => {
        expect.fail(
          `add fixtures for ${channel.kind} to the table in test/channels/conformance.test.ts`,
        );
      });
      continue;
    }
    describeChannelConformance(channel as Channel<never, never>, fixture);
  }
};

describe('every built-in channel passes the conformance kit (a built-in channel without fixtures here FAILS)', () => {
  describeEach(builtInChannels, builtInFixtures);
});

describe('every channel offered when configured passes the conformance kit (one without fixtures here FAILS)', () => {
  it('builds a channel for every option of configuredChannels from the test settings', () => {
    // Otherwise a channel whose option is set here but which configuredChannels leaves out would
    // escape the kit.
    expect(configuredChannels(testConfiguration)).to.have.length(
      Object.keys(testConfiguration).length,
    );
  });
  describeEach(channelsOfferedWhenConfigured, configuredFixtures);
});
