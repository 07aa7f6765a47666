import axios from 'axios';
import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { promises as dns } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { classifyAddress } from './addressPolicy.js';
import type { AddressReason, Allowlist } from './addressPolicy.js';

/**
 * Why a destination URL is refused. Stable; every one of them answers 400
 * `forbidden_destination` at the API.
 *
 * - `invalid_url`: not an absolute URL.
 * - `unsupported_scheme`: anything but `http:` and `https:` (`ftp:`, `file:`, `javascript:`,
 *   `data:`…).
 * - `credentials_in_url`: `user:password@` in the URL (see {@link checkDestination}).
 * - `unresolvable`: the host name does not resolve.
 * - an {@link AddressReason}: the host is, or resolves to, an address that may not be reached.
 */
export type DestinationReason =
  'invalid_url' | 'unsupported_scheme' | 'credentials_in_url' | 'unresolvable' | AddressReason;

/** A refused destination: a stable `reason` to match on and a `detail` for people. */
export interface DestinationProblem {
  readonly reason: DestinationReason;
  readonly detail: string;
  /** The refused address, when the reason is about one. */
  readonly address?: string;
}

/** An accepted destination: the parsed URL and the addresses its host resolved to. */
export interface CheckedDestination {
  readonly url: URL;
  readonly addresses: string[];
}

/**
 * Resolves a host name to all of its addresses, like `dns.promises.lookup(host, { all: true })`.
 * Injected in tests (and to pin a resolver); it must reject or answer `[]` when the name does not
 * resolve.
 */
export type HostResolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The operating system's resolver (getaddrinfo: /etc/hosts, then DNS), in the order it answers. */
export const systemResolver: HostResolver = (hostname) =>
  dns.lookup(hostname, { all: true, verbatim: true });

/** Options of {@link checkDestination} and {@link guardedLookup}. */
export interface GuardOptions {
  readonly allowlist: Allowlist;
  /** Defaults to {@link systemResolver}. */
  readonly lookup?: HostResolver;
}

const problem = (reason: DestinationReason, detail: string, address?: string) =>
  E.left<DestinationProblem>(
    address === undefined ? { reason, detail } : { reason, detail, address },
  );

const unbracket = (host: string): string =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

const describe: Record<AddressReason, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  link_local: 'a link-local address',
  unspecified: 'an unspecified address',
  metadata: 'a cloud metadata address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  shared: 'a carrier-grade NAT (shared) address',
  benchmarking: 'a benchmarking address',
  reserved: 'a reserved address',
  invalid: 'not a valid address',
};

/** The first address that may not be reached, unless the host or the address is allowlisted. */
const firstForbidden = (
  host: string,
  addresses: readonly string[],
  allowlist: Allowlist,
): DestinationProblem | undefined => {
  if (allowlist.allowsHost(host)) return undefined;
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.allowed && !allowlist.allowsAddress(address)) {
      const via = address === host ? '' : ` (${host} resolves to it)`;
      return {
        reason: verdict.reason,
        detail: `${address} is ${describe[verdict.reason]}${via}; only hosts in TIDINGS_OUTBOUND_ALLOWLIST may use such addresses`,
        address,
      };
    }
  }
  return undefined;
};

const resolve = async (host: string, lookup: HostResolver): Promise<string[] | undefined> => {
  try {
    const answers = await lookup(host);
    return answers.length === 0 ? undefined : answers.map((answer) => answer.address);
  } catch {
    return undefined;
  }
};

/**
 * Checks, before saving or sending, that `url` is a destination the server may reach: an
 * absolute http(s) URL whose host is, or resolves only to, addresses that
 * {@link classifyAddress} allows — every address, since a connection may use any of them —
 * unless the host name, or the refused address, is in the allowlist. IP literals are judged
 * without DNS; decimal, octal and hex IPv4 spellings (`http://2130706433/`, `http://0x7f.1/`)
 * are normalised to dotted quads by the WHATWG URL parser first, so they get no way around.
 *
 * URLs with credentials (`https://user:pass@host`) are refused: a device URL is echoed back by
 * `GET /v1/me` and shows up in logs, so a password in it would leak, and `allowed@evil` is a
 * classic trick to make a URL read as another host. A server that needs credentials gets its own
 * secret setting instead.
 *
 * This is the save-time half. DNS can change between now and the request, so sending must go
 * through {@link createGuardedAxios}, which checks again at connect time.
 */
export const checkDestination = async (
  url: string,
  options: GuardOptions,
): Promise<Either<DestinationProblem, CheckedDestination>> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem('invalid_url', 'the destination must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return problem(
      'unsupported_scheme',
      `only http and https destinations are allowed, not ${parsed.protocol.replace(/:$/, '')}`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return problem('credentials_in_url', 'the destination URL must not contain a user or password');
  }
  const host = unbracket(parsed.hostname);
  if (host === '') return problem('invalid_url', 'the destination URL has no host');
  const addresses =
    isIP(host) !== 0 ? [host] : await resolve(host, options.lookup ?? systemResolver);
  if (addresses === undefined) {
    return problem('unresolvable', `the host name ${host} does not resolve to any address`);
  }
  const forbidden = firstForbidden(host, addresses, options.allowlist);
  return forbidden === undefined
    ? E.right({ url: parsed, addresses })
    : E.left<DestinationProblem>(forbidden);
};

/** The `code` of every error the guard raises while sending; match on it. */
export const FORBIDDEN_DESTINATION = 'EFORBIDDENDESTINATION';

/** A request refused by the guard, carrying the {@link DestinationProblem}. */
export class ForbiddenDestinationError extends Error {
  readonly code = FORBIDDEN_DESTINATION;
  readonly problem: DestinationProblem;

  constructor(destination: string, problem: DestinationProblem) {
    super(`refused to connect to ${destination}: ${problem.detail}`);
    this.name = 'ForbiddenDestinationError';
    this.problem = problem;
  }
}

/**
 * The {@link DestinationProblem} behind a guard refusal, whether `error` is the
 * {@link ForbiddenDestinationError} itself or an axios error wrapping it; `undefined` otherwise.
 */
export const destinationProblemOf = (error: unknown): DestinationProblem | undefined => {
  for (let current = error, depth = 0; depth < 5; depth += 1) {
    if (current instanceof ForbiddenDestinationError) return current.problem;
    if (!(current instanceof Error)) return undefined;
    current = current.cause;
  }
  return undefined;
};

const notFound = (hostname: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname,
  });

const wantedFamily = (family: LookupOptions['family']): 0 | 4 | 6 =>
  family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;

/**
 * The connect-time half of the guard: a `lookup` for `http.Agent` / `https.Agent` (Node's
 * `net.LookupFunction`) that resolves like `dns.lookup` and fails with a
 * {@link ForbiddenDestinationError} (code `EFORBIDDENDESTINATION`) when any answer may not be
 * reached, so a name that resolved to a public address at save time and to an internal one now
 * (DNS rebinding) is refused before a socket connects. Answers in both forms Node asks for: one
 * address, or all of them with `{ all: true }` (Node 20's default family autoselection).
 *
 * Node does not call `lookup` for IP literals; {@link createGuardedAxios} checks those itself.
 */
export const guardedLookup = (allowlist: Allowlist, resolver?: HostResolver): LookupFunction => {
  const lookup = resolver ?? systemResolver;
  return (hostname, options, callback) => {
    const family = wantedFamily(options.family);
    lookup(hostname).then(
      (answers) => {
        const usable = answers.filter((answer) => family === 0 || answer.family === family);
        const first = usable[0];
        if (first === undefined) {
          callback(notFound(hostname), '');
          return;
        }
        const forbidden = firstForbidden(
          hostname,
          usable.map((answer) => answer.address),
          allowlist,
        );
        if (forbidden !== undefined) {
          callback(new ForbiddenDestinationError(hostname, forbidden), '');
        } else if (options.all === true) {
          callback(
            null,
            usable.map(({ address, family }) => ({ address, family })),
          );
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : notFound(hostname), '');
      },
    );
  };
};

/** Options of {@link createGuardedAxios}. */
export interface GuardedAxiosOptions extends GuardOptions {
  /** Whole-request time limit; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Largest response body accepted; default 1 MiB (a hostile server must not fill memory). */
  readonly maxResponseBytes?: number;
}

/**
 * The axios instance every outbound channel sends with. A user-supplied URL is an SSRF risk, so:
 *
 * - a request interceptor runs {@link checkDestination} on the final URL before anything is
 *   sent. It is the only check IP literals get (Node skips `lookup` for them) and it also refuses
 *   non-http(s) schemes and credentials; it rejects with a {@link ForbiddenDestinationError}.
 * - the http and https agents (keep-alive) resolve through {@link guardedLookup}, so the
 *   addresses are checked again at connect time, when DNS may answer differently.
 * - `maxRedirects: 0`: a redirect could point anywhere, so it is returned, never followed.
 * - `validateStatus: () => true`: every status is a response; callers decide what 4xx/5xx mean.
 * - `proxy: false`: an environment proxy would connect on our behalf, past the agents' lookup.
 *
 * The interceptor overwrites per-request options that would get around the guard (`adapter`,
 * `httpAgent`, `httpsAgent`, `httpVersion`, `lookup`, `maxRedirects`, `proxy`, `socketPath`,
 * `transport`). Guard refusals carry `code === 'EFORBIDDENDESTINATION'` (directly, or on the
 * wrapping `AxiosError`); {@link destinationProblemOf} gives the reason.
 */
export const createGuardedAxios = (options: GuardedAxiosOptions): AxiosInstance => {
  const lookup = guardedLookup(options.allowlist, options.lookup);
  const agentOptions = { keepAlive: true, lookup };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const enforced = {
    adapter: 'http',
    httpAgent,
    httpsAgent,
    httpVersion: 1,
    maxRedirects: 0,
    proxy: false,
  } as const;

  const instance = axios.create({
    ...enforced,
    timeout: options.timeoutMs ?? 5000,
    maxContentLength: options.maxResponseBytes ?? 1_048_576,
    validateStatus: () => true,
  });

  instance.interceptors.request.use(async (config: InternalAxiosRequestConfig) => {
    const url = instance.getUri(config);
    const checked = await checkDestination(url, options);
    if (E.isLeft(checked)) throw new ForbiddenDestinationError(url, checked.left);
    const guarded: InternalAxiosRequestConfig = Object.assign(config, enforced);
    delete guarded.lookup;
    delete guarded.socketPath;
    delete guarded.transport;
    return guarded;
  });

  return instance;
};
