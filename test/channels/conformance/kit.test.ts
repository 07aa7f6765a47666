import { expect } from 'chai';
import type { Channel, SendOutcome } from '../../../channels/channel.js';
import {
  conformanceChecks,
  describeChannelConformance,
  type ConformanceFixtures,
} from '../../../channels/conformance/conformance.js';
import type { HttpResult } from '../../../channels/httpClient.js';
import { scenarios, type ScenarioName } from '../../../channels/conformance/scenarios.js';
import { connect } from 'node:net';

interface Rendered {
  readonly id: string;
  readonly text: string;
  readonly token: string;
}

/** A channel that follows the contract; each test breaks one thing of it. */
const good = (
  overrides: Partial<Channel<{ token: string }, Rendered>> = {},
): Channel<{ token: string }, Rendered> => ({
  kind: 'pager',
  name: 'Pager',
  settings: [{ name: 'token', description: 'token', type: 'string', secret: true, required: true }],
  render: (message, settings) => ({
    id: message.messageId,
    text: message.body,
    token: settings.token,
  }),
  renderRecall: (target, settings) => ({ id: target.messageId, text: '', token: settings.token }),
  send: async (rendered, context) =>
    outcomeOf(
      await context.http.request({
        method: 'POST',
        url: 'https://pager.example/send',
        body: rendered.text,
      }),
    ),
  ...overrides,
});

const outcomeOf = (result: HttpResult): SendOutcome => {
  if (result.kind === 'refused')
    return { kind: 'rejected', reason: result.detail, code: 'forbidden_destination' };
  if (result.kind !== 'answered') return { kind: 'failed', reason: result.kind };
  if (result.status < 300) return { kind: 'delivered' };
  if (result.status === 429) {
    const after = result.headers['retry-after'] ?? '';
    const ms = /^\d+$/.test(after)
      ? Number(after) * 1000
      : Date.parse(after) - Date.parse('2025-03-01T12:00:00.000Z');
    return { kind: 'failed', reason: '429', retryAfterMs: ms };
  }
  return result.status >= 500
    ? { kind: 'failed', reason: String(result.status) }
    : { kind: 'rejected', reason: String(result.status) };
};

const fixtures: ConformanceFixtures<{ token: string }, Rendered> = {
  settings: { token: 'the-token' },
  notificationOf: (rendered) => rendered.id,
};

/** The names of the checks that fail for this channel. */
const failing = async (
  channel: Channel<{ token: string }, Rendered>,
  given: ConformanceFixtures<{ token: string }, Rendered> = fixtures,
): Promise<string[]> => {
  const failed: string[] = [];
  for (const check of conformanceChecks(channel, given)) {
    try {
      await check.run();
    } catch {
      failed.push(check.name);
    }
  }
  return failed;
};

describe('conformance kit: it can fail', () => {
  it('passes a channel that follows the contract', async () => {
    expect(await failing(good())).to.deep.equal([]);
  });

  it('fails a malformed declaration', async () => {
    expect(await failing(good({ name: '' }))).to.deep.equal([
      'declares a well-formed channel (kind, name, settings, render, send)',
    ]);
  });

  it('fails a render that reads the clock, Math.random or crypto, or fetches', async () => {
    const clocks: Channel<{ token: string }, Rendered>['render'][] = [
      (message, settings) => ({
        id: message.messageId,
        text: `${message.body} at ${Date.now()}`,
        token: settings.token,
      }),
      (message, settings) => ({
        id: message.messageId,
        text: new Date().toISOString(),
        token: settings.token,
      }),
      (message, settings) => ({
        id: `${message.messageId}-${Math.random()}`,
        text: '',
        token: settings.token,
      }),
      (message, settings) => ({
        id: crypto.randomUUID(),
        text: message.body,
        token: settings.token,
      }),
    ];
    for (const render of clocks) {
      expect(await failing(good({ render }))).to.include(
        'renders without I/O, the clock or randomness (fetch, sockets, Date, Math.random, crypto trapped), and not a promise',
      );
    }
    const fetching = good({
      render: (message, settings) => {
        void fetch('https://pager.example/').catch(() => undefined);
        return { id: message.messageId, text: message.body, token: settings.token };
      },
    });
    expect(await failing(fetching)).to.deep.equal([
      'renders without I/O, the clock or randomness (fetch, sockets, Date, Math.random, crypto trapped), and not a promise',
    ]);
  });

  it('fails a render that opens a socket (http, https and net all do)', async () => {
    const dialing = good({
      render: (message, settings) => {
        connect(9, '127.0.0.1')
          .on('error', () => undefined)
          .destroy();
        return { id: message.messageId, text: message.body, token: settings.token };
      },
    });
    expect(await failing(dialing)).to.deep.equal([
      'renders without I/O, the clock or randomness (fetch, sockets, Date, Math.random, crypto trapped), and not a promise',
    ]);
  });

  it('fails a send that throws, answers a wrong kind, or ignores Retry-After', async () => {
    const throwing = await failing(good({ send: () => Promise.reject(new Error('boom')) }));
    expect(throwing).to.include('send on success never throws and answers delivered');
    expect(throwing).to.include('send on network error never throws and answers failed');
    const retryAll = await failing(
      good({
        send: async (rendered, context) => {
          await context.http.request({
            method: 'POST',
            url: 'https://pager.example/',
            body: rendered.text,
          });
          return { kind: 'failed', reason: 'always' };
        },
      }),
    );
    expect(retryAll).to.include.members([
      'send on 400 never throws and answers rejected',
      'send on 429 with Retry-After seconds never throws and answers failed',
      'send on success never throws and answers delivered',
    ]);
    expect(retryAll).to.not.include('send on 500 never throws and answers failed');
  });

  it('fails a send that makes no request while claiming HTTP', async () => {
    expect(await failing(good({ send: () => Promise.resolve({ kind: 'delivered' }) }))).to.include(
      'send on success never throws and answers delivered',
    );
  });

  it('fails a channel that logs a secret setting, even URL-encoded or in a child logger', async () => {
    const leaks: Channel<{ token: string }, Rendered>['send'][] = [
      async (rendered, context) => {
        context.logger.info(`sending with ${rendered.token}`);
        return outcomeOf(
          await context.http.request({ method: 'POST', url: 'https://pager.example/' }),
        );
      },
      async (rendered, context) => {
        context.logger
          .child({ url: `https://pager.example/?t=${encodeURIComponent(rendered.token)}` })
          .warn('x');
        return outcomeOf(
          await context.http.request({ method: 'POST', url: 'https://pager.example/' }),
        );
      },
    ];
    for (const send of leaks) {
      expect(await failing(good({ send }))).to.deep.equal([
        'keeps every secret setting out of the logs, in every scenario',
      ]);
    }
  });

  it('fails a channel that logs a distinctive part (host, path) of a url-type secret', async () => {
    interface Hooked {
      readonly hook: string;
    }
    const hooked = (part: (url: URL) => string): Channel<Hooked, Hooked> => ({
      kind: 'hooked',
      name: 'Hooked',
      settings: [{ name: 'hook', description: 'hook', type: 'url', secret: true, required: true }],
      render: (_message, settings) => ({ hook: settings.hook }),
      send: async (rendered, context) => {
        context.logger.debug(`posting to ${part(new URL(rendered.hook))}`);
        const result = await context.http.request({ method: 'POST', url: rendered.hook });
        return outcomeOf(result);
      },
    });
    const given: ConformanceFixtures<Hooked, Hooked> = {
      settings: { hook: 'https://hooks.example/T0/B0/abcdef' },
    };
    const run = async (channel: Channel<Hooked, Hooked>): Promise<string[]> => {
      const failed: string[] = [];
      for (const check of conformanceChecks(channel, given)) {
        await check.run().catch(() => failed.push(check.name));
      }
      return failed;
    };
    const leak = 'keeps every secret setting out of the logs, in every scenario';
    expect(await run(hooked((url) => url.host))).to.deep.equal([leak]);
    expect(await run(hooked((url) => url.pathname))).to.deep.equal([leak]);
    expect(await run(hooked((url) => url.href))).to.deep.equal([leak]);
    expect(await run(hooked(() => 'the hook'))).to.deep.equal([]);
  });

  it('fails a recall that addresses another notification, or all of them, and asks for notificationOf', async () => {
    const recall = 'recalls the very notification each delivery made, and only that one';
    expect(
      await failing(
        good({
          renderRecall: (target, settings) => ({
            id: `x${target.messageId}`,
            text: '',
            token: settings.token,
          }),
        }),
      ),
    ).to.deep.equal([recall]);
    const constant = good({
      render: (message, settings) => ({ id: 'one', text: message.body, token: settings.token }),
      renderRecall: (_target, settings) => ({ id: 'one', text: '', token: settings.token }),
    });
    expect(await failing(constant)).to.deep.equal([recall]);
    expect(await failing(good(), { settings: { token: 'the-token' } })).to.deep.equal([recall]);
  });

  it('holds a channel with its own transport to each outcome and off context.http, and names the scenarios it cannot meet', async () => {
    const ok: HttpResult = { kind: 'answered', status: 200, headers: {}, body: '{}' };
    // The pager on a port of its own that behaves as the scenario says, without context.http.
    const onPort = (scenario: ScenarioName) =>
      good({
        send: () =>
          Promise.resolve(outcomeOf(scenarios.find(({ name }) => name === scenario)!.http(ok))),
      });
    const own = (
      channelFor: (scenario: ScenarioName) => Channel<{ token: string }, Rendered> | undefined,
    ): ConformanceFixtures<{ token: string }, Rendered> => ({ ...fixtures, transport: channelFor });
    const skipsGuard = own((scenario) =>
      scenario === 'guard refusal' ? undefined : onPort(scenario),
    );
    expect(await failing(good(), skipsGuard)).to.deep.equal([]);
    const names = conformanceChecks(good(), skipsGuard).map((check) => check.name);
    expect(names).to.include(
      "send on guard refusal: not played, the channel's transport says it cannot happen to it",
    );
    expect(names).to.not.include('send on guard refusal never throws and answers rejected');
    expect(names).to.include('send on 404 never throws and answers rejected');

    const alwaysDelivers = own(() => good({ send: () => Promise.resolve({ kind: 'delivered' }) }));
    expect(await failing(good(), alwaysDelivers)).to.include.members([
      'send on 400 never throws and answers rejected',
      'send on network error never throws and answers failed',
    ]);
    // good() sends through context.http: a channel with its own transport must not.
    const usesHttp = await failing(
      good(),
      own(() => good()),
    );
    expect(usesHttp).to.include('send on success never throws and answers delivered');
  });

  it('registers one test per check with the runner it is given', () => {
    const names: string[] = [];
    describeChannelConformance(good(), fixtures, {
      describe: (name, body) => {
        names.push(name);
        body();
      },
      it: (name) => names.push(name),
    });
    expect(names[0]).to.equal('channel pager: conformance (tidings/conformance)');
    expect(names.slice(1)).to.deep.equal(
      conformanceChecks(good(), fixtures).map((check) => check.name),
    );
  });
});
