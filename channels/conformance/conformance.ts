/**
 * The conformance kit for channel plugins (PLUGINS.md "Conformance kit"): `import {
 * describeChannelConformance } from 'tidings/conformance'` in a mocha test file. It holds a
 * channel to the contract with node:assert only, so a plugin needs no assertion library of ours;
 * every built-in channel passes it in Tidings' own tests (docs/plugins.md "The conformance kit").
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type {
  Channel,
  ChannelContext,
  OutgoingMessage,
  RecallTarget,
  SendOutcome,
} from '../channel.js';
import { checkChannelDeclaration } from '../declaration.js';
import type { HttpAnswer, HttpClient, HttpRequest } from '../httpClient.js';
import type { LogFields, Logger } from '../../domain/shared/logger.js';
import { isSendOutcome } from '../pluginGuard.js';
import { renderTrapped } from './renderPurity.js';
import { SCENARIO_NOW, scenarios, type Scenario, type ScenarioName } from './scenarios.js';

export type { ScenarioName } from './scenarios.js';

/** What the kit needs to know about a channel besides the channel itself. */
export interface ConformanceFixtures<Settings = unknown, Rendered = unknown> {
  /** Valid settings of one device. */
  readonly settings: Settings;
  /**
   * The same settings with every secret a distinctive value the kit looks for in the logs; by
   * default `settings` with each string secret replaced by a unique marker. Give them when a
   * secret has a format the channel checks (a `whsec_` key).
   */
  readonly secretSettings?: Settings;
  /** More messages to render besides the kit's own (plain, Chinese, long, threaded, levels). */
  readonly messages?: readonly OutgoingMessage[];
  /**
   * The answer the service gives when it took the message; default 200 with `{}`. Bark's, for
   * instance, is 200 with `{"code":200,"message":"success"}`.
   */
  readonly okAnswer?: Partial<Omit<HttpAnswer, 'kind'>>;
  /**
   * The notification a rendering addresses on the service (Bark: its `id`): required when the
   * channel declares `renderRecall`, so the kit can check that a recall addresses the very
   * notification the delivery made, and not another message's.
   */
  readonly notificationOf?: (rendered: Rendered) => unknown;
  /**
   * How the channel reaches the outside:
   * - `'http'` (default): through `context.http`; the kit scripts its answers per scenario.
   * - `'none'`: it makes no request at all (Tidings' inbox); the kit checks it makes none and
   *   answers a valid outcome in every scenario.
   * - a function, for a channel with its own transport port (an SMTP client): it answers the
   *   channel wired to a transport that behaves as the scenario says, or undefined when the
   *   scenario cannot happen to it. The kit then checks the outcome kind and that the channel did
   *   not use `context.http`.
   */
  readonly transport?:
    'http' | 'none' | ((scenario: ScenarioName) => Channel<Settings, Rendered> | undefined);
  /**
   * Outcome kinds this channel answers differently, with the reason in the docs (e.g. a service
   * that answers 404 for "try later"); the kit's expectation otherwise.
   */
  readonly expectations?: Partial<Record<ScenarioName, SendOutcome['kind']>>;
}

/** One check: a name for the test and a body that throws an AssertionError when it fails. */
export interface ConformanceCheck {
  readonly name: string;
  run(): Promise<void>;
}

/** The `describe` and `it` the suite registers with; mocha's globals by default. */
export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

const PLAIN: OutgoingMessage = {
  messageId: 'msg-plain-1',
  appId: 'app-1',
  appName: 'Work orders',
  recipientId: 'r-1',
  body: 'Order 1042 was dispatched',
};

/** The kit's messages: each rendering of these must be deterministic and pure. */
export const conformanceMessages: readonly OutgoingMessage[] = [
  PLAIN,
  {
    messageId: 'msg-zh-2',
    appId: 'app-1',
    appName: '工单系统',
    recipientId: 'r-1',
    title: '工单已派发',
    subtitle: '维修部',
    body: '您的工单 1042 已派发给张师傅，预计今天下午三点到达。',
    url: 'https://orders.example/1042?lang=zh',
  },
  {
    messageId: 'msg-long-3',
    appId: 'app-2',
    appName: 'Reports',
    recipientId: 'r-1',
    title: 'A long report',
    body: 'Lorem ipsum dolor sit amet, 𝄞 ünïcödé ✓. '.repeat(120),
  },
  {
    messageId: 'msg-thread-4',
    appId: 'app-1',
    appName: 'Work orders',
    recipientId: 'r-1',
    title: 'Order 1042',
    body: 'The technician has arrived',
    thread: 'order-1042',
    level: 'timeSensitive',
  },
  {
    messageId: 'msg-passive-5',
    appId: 'app-1',
    appName: 'Work orders',
    recipientId: 'r-1',
    body: 'Weekly summary',
    level: 'passive',
  },
];

/** A logger that keeps every call, child fields included, for the secrets check. */
const capturingLogger = (lines: string[], inherited: LogFields = {}): Logger => {
  const keep = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(`${level} ${message} ${safeJson({ ...inherited, ...fields })}`);
  };
  return {
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    child: (fields) => capturingLogger(lines, { ...inherited, ...fields }),
  };
};

/** JSON of log fields, errors spelled out (JSON.stringify drops their message). */
const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_key, item: unknown) =>
      item instanceof Error ? `${item.name}: ${item.message} ${item.stack ?? ''}` : item,
    );
  } catch {
    return String(value);
  }
};

/** What one scripted attempt came to. */
interface Played {
  readonly outcome: unknown;
  readonly threw?: unknown;
  readonly requests: readonly HttpRequest[];
}

/** Plays one send with an HTTP client that answers every request as `http` says. */
const play = async (
  channel: Channel,
  rendered: unknown,
  http: (request: HttpRequest) => ReturnType<HttpClient['request']>,
  logger: Logger,
): Promise<Played> => {
  const requests: HttpRequest[] = [];
  const context: ChannelContext = {
    http: {
      request: (request) => {
        requests.push(request);
        return http(request);
      },
    },
    logger,
    now: () => new Date(SCENARIO_NOW),
  };
  try {
    return { outcome: await channel.send(rendered, context), requests };
  } catch (error) {
    return { outcome: undefined, threw: error, requests };
  }
};

const recallTargetOf = (message: OutgoingMessage): RecallTarget => ({
  messageId: message.messageId,
  appId: message.appId,
  appName: message.appName,
  recipientId: message.recipientId,
  ...(message.thread === undefined ? {} : { thread: message.thread }),
});

/**
 * `settings` with each string secret replaced by a unique marker; the markers. A url secret gets
 * one marker in its host and another in its path, and the kit looks for each on its own: a hook
 * URL leaks as much through `new URL(u).host` or its path as whole (a URL parser lowercases the
 * host, so that marker is lowercase from the start).
 */
const markSecrets = (
  channel: Channel,
  settings: unknown,
): { settings: unknown; markers: string[] } => {
  if (typeof settings !== 'object' || settings === null) return { settings, markers: [] };
  const marked: Record<string, unknown> = { ...(settings as Record<string, unknown>) };
  const markers: string[] = [];
  channel.settings.forEach((setting, index) => {
    if (!setting.secret || typeof marked[setting.name] !== 'string') return;
    const marker = `tidingsSecretMarker${index}x${setting.name}`;
    switch (setting.type) {
      case 'url': {
        const host = `tidingssecrethost${index}`;
        marked[setting.name] = `https://${host}.example/${marker}`;
        markers.push(host, marker);
        return;
      }
      case 'email':
        marked[setting.name] = `${marker}@example.com`;
        markers.push(marker);
        return;
      case 'string':
      case 'phone':
      case 'boolean':
      case 'integer':
        marked[setting.name] = marker;
        markers.push(marker);
        return;
    }
  });
  return { settings: marked, markers };
};

/** The secret values of `settings` the logs must never hold (and their URL-encoded forms). */
const secretValuesOf = (channel: Channel, settings: unknown): string[] => {
  if (typeof settings !== 'object' || settings === null) return [];
  const values = settings as Record<string, unknown>;
  return channel.settings
    .filter((setting) => setting.secret)
    .map((setting) => values[setting.name])
    .filter((value): value is string => typeof value === 'string' && value.length >= 6)
    .flatMap((value) => [value, encodeURIComponent(value)]);
};

/**
 * The checks the kit makes on `channel`, in order, each runnable by any test runner (the mocha
 * suite of {@link describeChannelConformance} is one `it` per check).
 */
export const conformanceChecks = <Settings, Rendered>(
  channel: Channel<Settings, Rendered>,
  fixtures: ConformanceFixtures<Settings, Rendered>,
): ConformanceCheck[] => {
  const any = channel as unknown as Channel;
  const messages = [...conformanceMessages, ...(fixtures.messages ?? [])];
  const transport = fixtures.transport ?? 'http';
  const ok: HttpAnswer = {
    kind: 'answered',
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    ...fixtures.okAnswer,
  };
  const checks: ConformanceCheck[] = [
    {
      name: 'declares a well-formed channel (kind, name, settings, render, send)',
      run: () => {
        assert.deepEqual(checkChannelDeclaration(channel), []);
        return Promise.resolve();
      },
    },
    {
      name: 'renders every message the same way twice (deterministic)',
      run: () => {
        for (const message of messages) {
          const first = channel.render(message, fixtures.settings);
          const second = channel.render(message, fixtures.settings);
          assert.deepEqual(second, first, `render of ${message.messageId} changed between calls`);
        }
        return Promise.resolve();
      },
    },
    {
      name: 'renders without I/O, the clock or randomness (fetch, sockets, Date, Math.random, crypto trapped), and not a promise',
      run: () => {
        for (const message of messages) {
          const plain = channel.render(message, fixtures.settings);
          const trapped = renderTrapped(() => channel.render(message, fixtures.settings));
          assert.deepEqual(trapped.touched, [], `render of ${message.messageId} did I/O`);
          assert.ok(
            typeof (plain as { then?: unknown } | null)?.then !== 'function',
            'render must return its result, not a promise: it does no I/O',
          );
          assert.ok(
            isDeepStrictEqual(trapped.value, plain),
            `render of ${message.messageId} depends on the clock or on randomness`,
          );
        }
        return Promise.resolve();
      },
    },
  ];
  const rendered = channel.render(PLAIN, fixtures.settings);
  for (const scenario of scenarios) {
    // A scenario the channel's own transport cannot meet is not played; its test says so rather
    // than claim an outcome it never checked.
    const cannotHappen = typeof transport === 'function' && transport(scenario.name) === undefined;
    checks.push({
      name: cannotHappen
        ? `send on ${scenario.name}: not played, the channel's transport says it cannot happen to it`
        : transport === 'none'
          ? `send on ${scenario.name} never throws, makes no request and answers an outcome`
          : `send on ${scenario.name} never throws and answers ${fixtures.expectations?.[scenario.name] ?? scenario.expect}`,
      run: () =>
        playScenario(any, fixtures as ConformanceFixtures, scenario, rendered, ok, transport),
    });
  }
  checks.push({
    name: 'keeps every secret setting out of the logs, in every scenario',
    run: async () => {
      const { settings, markers } =
        fixtures.secretSettings === undefined
          ? markSecrets(any, fixtures.settings)
          : { settings: fixtures.secretSettings as unknown, markers: [] };
      const secrets = [...new Set([...markers, ...secretValuesOf(any, settings)])];
      const lines: string[] = [];
      for (const scenario of scenarios) {
        const target = channelFor(any, transport, scenario.name);
        if (target === undefined) continue;
        const output = target.render(PLAIN, settings);
        await play(
          target,
          output,
          () => Promise.resolve(scenario.http(ok)),
          capturingLogger(lines),
        );
      }
      for (const line of lines) {
        for (const secret of secrets) {
          assert.ok(
            !line.includes(secret),
            `a log line holds a secret setting: ${line.slice(0, 200)}`,
          );
        }
      }
    },
  });
  if (channel.renderRecall !== undefined) {
    const renderRecall = channel.renderRecall.bind(channel);
    checks.push({
      name: 'recalls the very notification each delivery made, and only that one',
      run: async () => {
        const notificationOf = fixtures.notificationOf;
        assert.ok(
          notificationOf !== undefined,
          'the channel declares renderRecall: give fixtures.notificationOf(rendered), the notification a rendering addresses',
        );
        const seen = new Map<string, string>();
        for (const message of messages) {
          const delivered = notificationOf(channel.render(message, fixtures.settings));
          const recalled = notificationOf(renderRecall(recallTargetOf(message), fixtures.settings));
          assert.deepEqual(
            recalled,
            delivered,
            `the recall of ${message.messageId} addresses another notification`,
          );
          const key = safeJson(delivered);
          // Two messages outside a thread must not share a notification: a recall would take both.
          if (message.thread === undefined) {
            assert.ok(
              !seen.has(key),
              `${message.messageId} and ${seen.get(key) ?? ''} address one notification`,
            );
            seen.set(key, message.messageId);
          }
        }
        const recall = renderRecall(recallTargetOf(PLAIN), fixtures.settings);
        const target = channelFor(any, transport, 'success');
        if (target !== undefined) {
          const played = await play(target, recall, () => Promise.resolve(ok), capturingLogger([]));
          assert.equal(played.threw, undefined, 'send of a recall threw');
          assert.ok(isSendOutcome(played.outcome), 'send of a recall answered a malformed outcome');
        }
      },
    });
  }
  return checks;
};

/** The channel a scenario is played with: the channel itself, or the fixture's wired one. */
const channelFor = (
  channel: Channel,
  transport: NonNullable<ConformanceFixtures['transport']>,
  scenario: ScenarioName,
): Channel | undefined => (typeof transport === 'function' ? transport(scenario) : channel);

const playScenario = async (
  channel: Channel,
  fixtures: ConformanceFixtures,
  scenario: Scenario,
  rendered: unknown,
  ok: HttpAnswer,
  transport: NonNullable<ConformanceFixtures['transport']>,
): Promise<void> => {
  const target = channelFor(channel, transport, scenario.name);
  if (target === undefined) return;
  const output = target === channel ? rendered : target.render(PLAIN, fixtures.settings);
  const played = await play(
    target,
    output,
    () => Promise.resolve(scenario.http(ok)),
    capturingLogger([]),
  );
  assert.equal(played.threw, undefined, `send threw on ${scenario.name}: ${String(played.threw)}`);
  assert.ok(
    isSendOutcome(played.outcome),
    `send answered a malformed outcome on ${scenario.name}: ${safeJson(played.outcome)}`,
  );
  const outcome = played.outcome;
  switch (transport) {
    case 'none':
      assert.equal(
        played.requests.length,
        0,
        'a channel with transport "none" made an HTTP request',
      );
      return;
    case 'http':
      assert.ok(
        played.requests.length > 0,
        'send made no HTTP request through context.http; a channel without I/O declares transport "none", one with its own port gives transport(scenario)',
      );
      break;
    default:
      assert.equal(played.requests.length, 0, 'a channel with its own transport used context.http');
  }
  const expected = fixtures.expectations?.[scenario.name] ?? scenario.expect;
  assert.equal(outcome.kind, expected, `on ${scenario.name}: ${safeJson(outcome)}`);
  if (scenario.retryAfterMs !== undefined && outcome.kind === 'failed' && expected === 'failed') {
    assert.ok(
      outcome.retryAfterMs !== undefined &&
        Math.abs(outcome.retryAfterMs - scenario.retryAfterMs) <= 1_000,
      `on ${scenario.name}, retryAfterMs must be ${scenario.retryAfterMs} (context.now() is ${SCENARIO_NOW.toISOString()}), got ${String(outcome.retryAfterMs)}`,
    );
  }
};

/** Mocha's global `describe` and `it`, or a clear error outside mocha. */
const mochaGlobals = (): TestRunner => {
  const scope = globalThis as Readonly<Record<string, unknown>>;
  const { describe, it } = scope;
  if (typeof describe !== 'function' || typeof it !== 'function') {
    throw new Error(
      'describeChannelConformance needs mocha (global describe and it), or a runner as its third argument',
    );
  }
  return { describe, it } as TestRunner;
};

/**
 * Registers the conformance suite of `channel` with mocha (or any runner with `describe` and
 * `it`): one test per check of {@link conformanceChecks}.
 *
 * @example
 * import { describeChannelConformance } from 'tidings/conformance';
 * import matrix from '../matrix.mjs';
 * describeChannelConformance(matrix, { settings: { homeserver: 'https://m.example', roomId: '!r:m.example', token: 't0ken' } });
 */
export const describeChannelConformance = <Settings, Rendered>(
  channel: Channel<Settings, Rendered>,
  fixtures: ConformanceFixtures<Settings, Rendered>,
  runner: TestRunner = mochaGlobals(),
): void => {
  const label = typeof (channel as { kind?: unknown }).kind === 'string' ? channel.kind : 'unnamed';
  runner.describe(`channel ${label}: conformance (tidings/conformance)`, () => {
    let checks: ConformanceCheck[] | undefined;
    let setupError: unknown;
    try {
      checks = conformanceChecks(channel, fixtures);
    } catch (error) {
      // A channel too broken to render even once still gets its declaration checked.
      setupError = error;
    }
    if (checks === undefined) {
      runner.it('declares a well-formed channel and renders', () => {
        assert.deepEqual(checkChannelDeclaration(channel), []);
        throw setupError;
      });
      return;
    }
    for (const check of checks) runner.it(check.name, () => check.run());
  });
};
