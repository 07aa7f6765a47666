import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { isIP } from 'node:net';
import type { LogLevel } from '../logging/logger.js';
import type { SynchronousMode } from '../sqlite/database.js';
import { parseMailFrom, parseSmtpUrl, type SmtpSettings } from './smtpSettings.js';
import { parseTrustProxy } from './trustProxy.js';
import { parseConnectionString } from '@eventstore/db-client/dist/Client/parseConnectionString.js';

/** Everything the server reads from its environment, decoded and checked once at start. */
export interface Settings {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly eventStoreConnectionString?: string;
  /**
   * The PostgreSQL database shared by every node of a deployment (`TIDINGS_DATABASE_URL`): the
   * log, leases, claims, Idempotency-Keys and rate limits (README "Running several nodes").
   */
  readonly databaseUrl?: string;
  /** This node's name in leases and claims (`TIDINGS_NODE_ID`); host name and process id by default. */
  readonly nodeId?: string;
  /**
   * With EventStoreDB: deliver from persistent subscription groups of this base name
   * (`TIDINGS_ESDB_DELIVERY_GROUP`), so the nodes on one EventStoreDB share the deliveries
   * (README "Running several nodes"); each node's own worker delivers everything when unset.
   */
  readonly esdbDeliveryGroup?: string;
  readonly adminToken?: string;
  readonly auditToken?: string;
  readonly outboundAllowlist: readonly string[];
  /**
   * The channel plugin modules to load at start (`TIDINGS_CHANNEL_PLUGINS`), in order: absolute
   * paths, paths relative to the working directory, or package names; empty for none.
   */
  readonly channelPlugins: readonly string[];
  readonly moderationDenylist?: string;
  readonly publicUrl: string;
  readonly logLevel: LogLevel;
  readonly sqliteSynchronous: SynchronousMode;
  readonly pushBudgetPerHour: number;
  readonly appRateBurst: number;
  readonly appRatePerSecond: number;
  /** Failed logins allowed at once per client address, then one a minute (429 beyond). */
  readonly authFailureBurstPerIp: number;
  /** Failed logins allowed at once per username, then one a minute (429 beyond). */
  readonly authFailureBurstPerUsername: number;
  /**
   * New accounts allowed at once per client address, then one every three minutes. Each costs a
   * slow password hash, so an unlimited stream of them would starve the machine.
   */
  readonly registrationBurst: number;
  /** How long a login lasts, in days. */
  readonly sessionDays: number;
  readonly deliveryMaxAttempts: number;
  /**
   * New messages are refused (503 `overloaded`, Retry-After) while delivery is behind by more
   * than this many seconds (`TIDINGS_ADMISSION_MAX_LAG_SECONDS`); 0 never refuses.
   */
  readonly admissionMaxLagSeconds: number;
  /**
   * Where a message due now is moderated and routed (`TIDINGS_SUBMISSION_STAGES`): `inline`, in
   * the submission's own command when the policies are all local and the node routes by itself
   * (one node); `separate`, always by the moderation and routing stages.
   */
  readonly submissionStages: 'inline' | 'separate';
  readonly wechatAppId?: string;
  readonly wechatAppSecret?: string;
  readonly wechatApiBase: string;
  /**
   * The operator's SMTP server and sender (`TIDINGS_SMTP_URL`, `TIDINGS_SMTP_FROM`, both or
   * neither): when set, the `email` channel is available (docs/email.md).
   */
  readonly smtp?: SmtpSettings;
  /**
   * The operator's HTTP SMS gateway (docs/sms.md): present when both `TIDINGS_SMS_GATEWAY_URL`
   * and `TIDINGS_SMS_GATEWAY_TOKEN` are set, and then the `sms` channel is offered.
   */
  readonly sms?: SmsGatewaySettings;
  /** Points an upheld complaint costs: minor, major, severe. */
  readonly penaltyPoints: {
    readonly minor: number;
    readonly major: number;
    readonly severe: number;
  };
  readonly suspendBelow: number;
  readonly banBelow: number;
  readonly maxSuspensions: number;
  readonly suspensionDays: number;
  /** Distinct complainants within the window that suspend an app pending review; 0 turns the rule off. */
  readonly surgeComplainants: number;
  readonly surgeWindowHours: number;
  /**
   * Which proxies' `X-Forwarded-For` / `X-Forwarded-Proto` count, in express's `trust proxy`
   * terms: `false` (none: the socket's address is the client's), a hop count, or addresses, CIDR
   * blocks and the names `loopback`, `linklocal`, `uniquelocal`.
   */
  readonly trustProxy: TrustProxy;
  /**
   * Serve the data folder read-only (`TIDINGS_READ_ONLY=1`), as a folder `npm run replay` made:
   * every read route answers, nothing is written to the log, and no processor, delivery or
   * clock runs (docs/audit.md, "Point-in-time replay").
   */
  readonly readOnly: boolean;
  /** How long a client may take to send a request's headers, in seconds. */
  readonly httpHeadersTimeoutSeconds: number;
  /** How long a client may take to send a whole request, headers and body, in seconds. */
  readonly httpRequestTimeoutSeconds: number;
  /** How long an idle keep-alive connection stays open, in seconds. */
  readonly httpKeepAliveTimeoutSeconds: number;
  /** Connections open at once; more are closed as they arrive. */
  readonly httpMaxConnections: number;
  /** The largest request line and headers taken, in bytes (431 beyond). */
  readonly httpMaxHeaderBytes: number;
}

/** Where the SMS gateway is and the token it takes (`Authorization: Bearer <token>`). */
export interface SmsGatewaySettings {
  readonly gatewayUrl: string;
  readonly token: string;
}

/** The forms of express's `trust proxy` an operator may choose (see {@link Settings.trustProxy}). */
export type TrustProxy = false | number | readonly string[];

/** A codec that turns an environment string into a value, or fails with a reason. */
const fromEnv = <A>(name: string, parse: (raw: string) => E.Either<string, A>): t.Type<A, string> =>
  new t.Type<A, string, unknown>(
    name,
    (value): value is A => value !== undefined,
    (input, context) =>
      typeof input !== 'string'
        ? t.failure(input, context, 'must be text')
        : pipe(
            parse(input.trim()),
            E.match(
              (reason) => t.failure(input, context, reason),
              (value) => t.success(value),
            ),
          ),
    String,
  );

const Port = fromEnv('Port', (raw) => {
  const port = Number(raw);
  return /^\d+$/.test(raw) && port >= 0 && port <= 65_535
    ? E.right(port)
    : E.left(`must be a whole number from 0 to 65535, got "${raw}"`);
});

const positiveInt = (max: number) =>
  fromEnv('PositiveInt', (raw) => {
    const value = Number(raw);
    return /^\d+$/.test(raw) && value >= 1 && value <= max
      ? E.right(value)
      : E.left(`must be a whole number from 1 to ${max}, got "${raw}"`);
  });

const boundedInt = (min: number, max: number) =>
  fromEnv('BoundedInt', (raw) => {
    const value = Number(raw);
    return /^\d+$/.test(raw) && value >= min && value <= max
      ? E.right(value)
      : E.left(`must be a whole number from ${min} to ${max}, got "${raw}"`);
  });

const wholeNumber = (max: number) =>
  fromEnv('WholeNumber', (raw) => {
    const value = Number(raw);
    return /^\d+$/.test(raw) && value <= max
      ? E.right(value)
      : E.left(`must be a whole number from 0 to ${max}, got "${raw}"`);
  });

const PenaltyPoints = fromEnv('PenaltyPoints', (raw) => {
  const parts = raw.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  return parts.length === 3 &&
    parts.every((part) => /^\d+$/.test(part)) &&
    numbers.every((n) => n >= 1 && n <= 1000)
    ? E.right({ minor: numbers[0] ?? 5, major: numbers[1] ?? 15, severe: numbers[2] ?? 30 })
    : E.left(`must be three whole numbers "minor,major,severe" from 1 to 1000, got "${raw}"`);
});

const NonEmpty = fromEnv('NonEmpty', (raw) =>
  raw.length > 0 ? E.right(raw) : E.left('must not be empty'),
);

const Token = fromEnv('Token', (raw) =>
  raw.length >= 16
    ? E.right(raw)
    : E.left('must be at least 16 characters (use a long random value)'),
);

/**
 * An EventStoreDB connection string, parsed by the client's own parser so a mistake stops the
 * start here, naming the setting: a malformed one, and an unknown option (which the client would
 * only warn about on stderr, quoting the whole string, password included, and then ignore).
 * The password never appears in the answer.
 */
const PostgresUrl = fromEnv('PostgresUrl', (raw) => {
  if (!/^postgres(ql)?:\/\/\S+$/.test(raw)) {
    return E.left('must be a PostgreSQL URL starting with postgres:// or postgresql://');
  }
  try {
    new URL(raw);
  } catch {
    return E.left('is not a valid URL');
  }
  return E.right(raw);
});

const NodeId = fromEnv('NodeId', (raw) =>
  /^[A-Za-z0-9._:-]{1,100}$/.test(raw)
    ? E.right(raw)
    : E.left('must be 1–100 letters, digits, dots, colons, dashes or underscores'),
);

const GroupName = fromEnv('GroupName', (raw) =>
  /^[A-Za-z0-9._-]{1,100}$/.test(raw)
    ? E.right(raw)
    : E.left('must be 1–100 letters, digits, dots, dashes or underscores'),
);

const EsdbConnectionString = fromEnv('EsdbConnectionString', (raw) => {
  if (!/^esdb(\+discover)?:\/\/\S+$/.test(raw)) {
    return E.left(
      'must be an EventStoreDB connection string starting with esdb:// or esdb+discover://',
    );
  }
  const password = /^esdb(?:\+discover)?:\/\/[^:@/]*:([^@/]+)@/.exec(raw)?.[1];
  const scrub = (text: string): string =>
    password === undefined ? text : text.split(password).join('***');
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => {
    warnings.push(parts.map(String).join(' '));
  };
  try {
    parseConnectionString(raw);
  } catch (error) {
    return E.left(
      scrub(
        `is not a valid connection string: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  } finally {
    console.warn = warn;
  }
  const [first] = warnings;
  return first === undefined
    ? E.right(raw)
    : E.left(
        scrub(
          `is refused: ${(first.split('\n')[0] ?? first).replace(/,? ?setting will be ignored\.?$/, '')}`,
        ),
      );
});

const HttpUrl = fromEnv('HttpUrl', (raw) => {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? E.right(raw.replace(/\/+$/, ''))
      : E.left(`must be an http(s) URL, got "${raw}"`);
  } catch {
    return E.left(`must be an http(s) URL, got "${raw}"`);
  }
});

/**
 * An endpoint that is posted to as it is: absolute http(s), no credentials in it (the token has
 * its own setting, and the outbound guard refuses such URLs anyway). The value is never quoted
 * back: its query may hold a provider's key.
 */
const EndpointUrl = fromEnv('EndpointUrl', (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return E.left('must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return E.left(`must be an http(s) URL, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    return E.left('must not hold credentials (user:password@); the token has its own setting');
  }
  return E.right(raw);
});

/**
 * A credential sent in an HTTP header: visible ASCII without spaces, so that it can be sent at
 * all. Never quoted back.
 */
const HeaderToken = fromEnv('HeaderToken', (raw) =>
  /^[\x21-\x7e]+$/.test(raw)
    ? E.right(raw)
    : E.left('must be visible ASCII characters without spaces (it is sent as a Bearer token)'),
);

/** Host names, IP addresses or CIDR blocks, separated by commas or spaces. */
const Allowlist = fromEnv('Allowlist', (raw) => {
  const entries = raw.split(/[\s,]+/).filter((entry) => entry.length > 0);
  const bad = entries.find((entry) => !isHostOrCidr(entry));
  return bad === undefined
    ? E.right(entries)
    : E.left(`"${bad}" is not a host name, IP address or CIDR block`);
});

/**
 * Module specifiers separated by commas (not spaces: a path may hold one), each trimmed; empty
 * entries, as a trailing comma leaves, are dropped.
 */
const ModuleList = fromEnv('ModuleList', (raw) => {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const duplicate = entries.find((entry, index) => entries.indexOf(entry) !== index);
  return duplicate === undefined ? E.right(entries) : E.left(`lists "${duplicate}" twice`);
});

/** An IP address, or a CIDR block `address/bits`. */
const isAddressOrCidr = (entry: string): boolean => {
  const [address = '', bits, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const family = isIP(address);
  if (bits === undefined) return family !== 0;
  return family !== 0 && /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
};

const isHostOrCidr = (entry: string): boolean =>
  isAddressOrCidr(entry) ||
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(
    entry,
  );

/** See {@link parseSmtpUrl}. */
const SmtpUrl = fromEnv('SmtpUrl', parseSmtpUrl);

/** See {@link parseMailFrom}. */
const SmtpFrom = fromEnv('SmtpFrom', parseMailFrom);

/** See {@link parseTrustProxy}. */
const TrustProxySetting = fromEnv('TrustProxy', parseTrustProxy);

const Flag = fromEnv('Flag', (raw) => {
  const value = raw.toLowerCase();
  if (['1', 'true', 'yes'].includes(value)) return E.right(true);
  if (['0', 'false', 'no'].includes(value)) return E.right(false);
  return E.left(`must be 1 or 0, got "${raw}"`);
});

const oneOf = <A extends string>(values: readonly A[]) =>
  fromEnv(`OneOf`, (raw) => {
    const value = raw.toLowerCase();
    return (values as readonly string[]).includes(value)
      ? E.right(value as A)
      : E.left(`must be one of ${values.join(', ')}, got "${raw}"`);
  });

/** Each setting: its environment name, codec and default. The README's table mirrors this list. */
const table = {
  port: { env: 'PORT', codec: Port, fallback: 8080 },
  host: { env: 'TIDINGS_HOST', codec: NonEmpty, fallback: '0.0.0.0' },
  dataDir: { env: 'TIDINGS_DATA_DIR', codec: NonEmpty, fallback: './data' },
  eventStoreConnectionString: { env: 'EVENTSTORE_CONNECTION_STRING', codec: EsdbConnectionString },
  databaseUrl: { env: 'TIDINGS_DATABASE_URL', codec: PostgresUrl },
  nodeId: { env: 'TIDINGS_NODE_ID', codec: NodeId },
  esdbDeliveryGroup: { env: 'TIDINGS_ESDB_DELIVERY_GROUP', codec: GroupName },
  adminToken: { env: 'TIDINGS_ADMIN_TOKEN', codec: Token },
  auditToken: { env: 'TIDINGS_AUDIT_TOKEN', codec: Token },
  outboundAllowlist: {
    env: 'TIDINGS_OUTBOUND_ALLOWLIST',
    codec: Allowlist,
    fallback: [] as string[],
  },
  channelPlugins: {
    env: 'TIDINGS_CHANNEL_PLUGINS',
    codec: ModuleList,
    fallback: [] as string[],
  },
  moderationDenylist: { env: 'TIDINGS_MODERATION_DENYLIST', codec: NonEmpty },
  publicUrl: { env: 'TIDINGS_PUBLIC_URL', codec: HttpUrl },
  logLevel: {
    env: 'TIDINGS_LOG_LEVEL',
    codec: oneOf<LogLevel>(['debug', 'info', 'warn', 'error', 'silent']),
    fallback: 'info' as LogLevel,
  },
  pushBudgetPerHour: {
    env: 'TIDINGS_PUSH_BUDGET_PER_HOUR',
    codec: positiveInt(100_000),
    fallback: 30,
  },
  appRateBurst: { env: 'TIDINGS_APP_RATE_BURST', codec: positiveInt(1_000_000), fallback: 200 },
  appRatePerSecond: {
    env: 'TIDINGS_APP_RATE_PER_SECOND',
    codec: positiveInt(1_000_000),
    fallback: 100,
  },
  authFailureBurstPerIp: {
    env: 'TIDINGS_AUTH_FAILURE_BURST_PER_IP',
    codec: positiveInt(1_000_000),
    fallback: 30,
  },
  authFailureBurstPerUsername: {
    env: 'TIDINGS_AUTH_FAILURE_BURST_PER_USERNAME',
    codec: positiveInt(1_000_000),
    fallback: 10,
  },
  registrationBurst: {
    env: 'TIDINGS_REGISTRATION_BURST',
    codec: positiveInt(1_000_000),
    fallback: 20,
  },
  sessionDays: { env: 'TIDINGS_SESSION_DAYS', codec: positiveInt(3_650), fallback: 30 },
  deliveryMaxAttempts: {
    env: 'TIDINGS_DELIVERY_MAX_ATTEMPTS',
    codec: positiveInt(100),
    fallback: 6,
  },
  admissionMaxLagSeconds: {
    env: 'TIDINGS_ADMISSION_MAX_LAG_SECONDS',
    codec: boundedInt(0, 3_600),
    fallback: 10,
  },
  submissionStages: {
    env: 'TIDINGS_SUBMISSION_STAGES',
    codec: oneOf<'inline' | 'separate'>(['inline', 'separate']),
    fallback: 'inline',
  },
  wechatAppId: { env: 'TIDINGS_WECHAT_APPID', codec: NonEmpty },
  wechatAppSecret: { env: 'TIDINGS_WECHAT_SECRET', codec: NonEmpty },
  wechatApiBase: {
    env: 'TIDINGS_WECHAT_API_BASE',
    codec: HttpUrl,
    fallback: 'https://api.weixin.qq.com',
  },
  smtpUrl: { env: 'TIDINGS_SMTP_URL', codec: SmtpUrl },
  smtpFrom: { env: 'TIDINGS_SMTP_FROM', codec: SmtpFrom },
  smsGatewayUrl: { env: 'TIDINGS_SMS_GATEWAY_URL', codec: EndpointUrl },
  smsGatewayToken: { env: 'TIDINGS_SMS_GATEWAY_TOKEN', codec: HeaderToken },
  penaltyPoints: {
    env: 'TIDINGS_PENALTY_POINTS',
    codec: PenaltyPoints,
    fallback: { minor: 5, major: 15, severe: 30 },
  },
  suspendBelow: { env: 'TIDINGS_SUSPEND_BELOW', codec: wholeNumber(1_000), fallback: 60 },
  banBelow: { env: 'TIDINGS_BAN_BELOW', codec: wholeNumber(1_000), fallback: 20 },
  maxSuspensions: { env: 'TIDINGS_MAX_SUSPENSIONS', codec: positiveInt(100), fallback: 3 },
  suspensionDays: { env: 'TIDINGS_SUSPENSION_DAYS', codec: positiveInt(3_650), fallback: 7 },
  surgeComplainants: {
    env: 'TIDINGS_SURGE_COMPLAINANTS',
    codec: wholeNumber(1_000_000),
    fallback: 5,
  },
  surgeWindowHours: {
    env: 'TIDINGS_SURGE_WINDOW_HOURS',
    codec: positiveInt(24 * 365),
    fallback: 24,
  },
  trustProxy: {
    env: 'TIDINGS_TRUST_PROXY',
    codec: TrustProxySetting,
    fallback: false as TrustProxy,
  },
  readOnly: { env: 'TIDINGS_READ_ONLY', codec: Flag, fallback: false },
  httpHeadersTimeoutSeconds: {
    env: 'TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS',
    codec: positiveInt(3_600),
    fallback: 10,
  },
  httpRequestTimeoutSeconds: {
    env: 'TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS',
    codec: positiveInt(3_600),
    fallback: 60,
  },
  httpKeepAliveTimeoutSeconds: {
    env: 'TIDINGS_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
    codec: positiveInt(3_600),
    fallback: 5,
  },
  httpMaxConnections: {
    env: 'TIDINGS_HTTP_MAX_CONNECTIONS',
    codec: positiveInt(1_000_000),
    fallback: 1024,
  },
  httpMaxHeaderBytes: {
    env: 'TIDINGS_HTTP_MAX_HEADER_BYTES',
    codec: boundedInt(1024, 1024 * 1024),
    fallback: 16 * 1024,
  },
  sqliteSynchronous: {
    env: 'TIDINGS_SQLITE_SYNCHRONOUS',
    codec: oneOf<SynchronousMode>(['full', 'normal']),
    fallback: 'full' as SynchronousMode,
  },
} as const;

/** Names of every environment variable Tidings reads. */
export const settingNames: readonly string[] = Object.values(table).map((entry) => entry.env);

/**
 * Decodes the settings from an environment. An empty variable counts as unset. On failure the
 * answer is one line that names the variable and says what is wrong with it.
 */
export const loadSettings = (env: NodeJS.ProcessEnv): E.Either<string, Settings> => {
  const values: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(table)) {
    const raw = env[entry.env];
    if (raw === undefined || raw.trim() === '') {
      if ('fallback' in entry) values[key] = entry.fallback;
      continue;
    }
    const decoded = (entry.codec as t.Type<unknown, string>).decode(raw);
    if (E.isLeft(decoded)) {
      const reason = decoded.left[0]?.message ?? 'is invalid';
      // The reason may quote the raw value; escape its line breaks so the answer stays one line.
      const oneLine = reason.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
      return E.left(`invalid setting ${entry.env}: ${oneLine}`);
    }
    values[key] = decoded.right;
  }
  if (values['databaseUrl'] !== undefined && values['eventStoreConnectionString'] !== undefined) {
    return E.left(
      'invalid setting TIDINGS_DATABASE_URL: it and EVENTSTORE_CONNECTION_STRING each name the log; set one of them',
    );
  }
  if (
    values['esdbDeliveryGroup'] !== undefined &&
    values['eventStoreConnectionString'] === undefined
  ) {
    return E.left(
      'invalid setting TIDINGS_ESDB_DELIVERY_GROUP: it names EventStoreDB persistent subscription groups; set EVENTSTORE_CONNECTION_STRING as well',
    );
  }
  if ((values['wechatAppId'] === undefined) !== (values['wechatAppSecret'] === undefined)) {
    return E.left(
      'invalid setting TIDINGS_WECHAT_SECRET: TIDINGS_WECHAT_APPID and TIDINGS_WECHAT_SECRET go together; set both or neither',
    );
  }
  const { smtpUrl, smtpFrom } = values;
  delete values['smtpUrl'];
  delete values['smtpFrom'];
  if ((smtpUrl === undefined) !== (smtpFrom === undefined)) {
    const missing = smtpUrl === undefined ? 'TIDINGS_SMTP_URL' : 'TIDINGS_SMTP_FROM';
    return E.left(
      `invalid setting ${missing}: TIDINGS_SMTP_URL and TIDINGS_SMTP_FROM go together; set both or neither`,
    );
  }
  if (smtpUrl !== undefined && smtpFrom !== undefined) {
    values['smtp'] = { server: smtpUrl, from: smtpFrom };
  }
  const { smsGatewayUrl, smsGatewayToken } = values;
  delete values['smsGatewayUrl'];
  delete values['smsGatewayToken'];
  if (smsGatewayUrl !== undefined && smsGatewayToken === undefined) {
    return E.left(
      'invalid setting TIDINGS_SMS_GATEWAY_TOKEN: must be set when TIDINGS_SMS_GATEWAY_URL is (the gateway takes it as a Bearer token)',
    );
  }
  if (smsGatewayUrl === undefined && smsGatewayToken !== undefined) {
    return E.left(
      'invalid setting TIDINGS_SMS_GATEWAY_URL: must be set when TIDINGS_SMS_GATEWAY_TOKEN is (where to send SMS)',
    );
  }
  if (smsGatewayUrl !== undefined && smsGatewayToken !== undefined) {
    values['sms'] = { gatewayUrl: smsGatewayUrl, token: smsGatewayToken };
  }
  if ((values['suspendBelow'] as number) <= (values['banBelow'] as number)) {
    return E.left(
      `invalid setting TIDINGS_SUSPEND_BELOW: must be above TIDINGS_BAN_BELOW (${String(values['banBelow'])}), got ${String(values['suspendBelow'])}`,
    );
  }
  if (
    (values['httpHeadersTimeoutSeconds'] as number) >
    (values['httpRequestTimeoutSeconds'] as number)
  ) {
    return E.left(
      `invalid setting TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: must not be above TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS (${String(values['httpRequestTimeoutSeconds'])}), got ${String(values['httpHeadersTimeoutSeconds'])}`,
    );
  }
  const port = values['port'] as number;
  values['publicUrl'] ??= `http://localhost:${port}`;
  return E.right(values as unknown as Settings);
};
