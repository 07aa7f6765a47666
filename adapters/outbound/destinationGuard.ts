import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { promises as dns } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
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

const invalidUrl: DestinationProblem = {
  reason: 'invalid_url',
  detail: 'the destination must be an absolute http(s) URL',
};

/** `url` parsed by the WHATWG parser (as Node and undici parse it), if it is an absolute URL. */
const parseDestination = (url: string): URL | undefined => {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
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
 * through the guarded HTTP client (`createGuardedHttpClient`), which checks again at connect
 * time.
 */
export const checkDestination = async (
  url: string,
  options: GuardOptions,
): Promise<Either<DestinationProblem, CheckedDestination>> => {
  const parsed = parseDestination(url);
  if (parsed === undefined) return E.left(invalidUrl);
  const host = hostOf(parsed);
  if (E.isLeft(host)) return host;
  const addresses =
    isIP(host.right) !== 0
      ? [host.right]
      : await resolve(host.right, options.lookup ?? systemResolver);
  const forbidden = judgeAddresses(host.right, addresses, options.allowlist);
  return forbidden === undefined
    ? E.right({ url: parsed, addresses: addresses ?? [] })
    : E.left<DestinationProblem>(forbidden);
};

/** The checks that need no DNS: scheme, credentials, a host. The host, unbracketed, if they pass. */
const hostOf = (parsed: URL): Either<DestinationProblem, string> => {
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
  return host === '' ? problem('invalid_url', 'the destination URL has no host') : E.right(host);
};

/** The verdict on `host` given its addresses (`undefined`: it did not resolve). */
const judgeAddresses = (
  host: string,
  addresses: readonly string[] | undefined,
  allowlist: Allowlist,
): DestinationProblem | undefined =>
  addresses === undefined
    ? {
        reason: 'unresolvable',
        detail: `the host name ${host} does not resolve to any address`,
      }
    : firstForbidden(host, addresses, allowlist);

/** Options of {@link cachedDestinationCheck}. */
export interface DestinationCacheOptions extends GuardOptions {
  /** How long an accepted host name is taken as accepted; default 10 s. */
  readonly nameTtlMs?: number;
  /** Most hosts remembered, for IP literals and for names (each); default 1024. */
  readonly maxEntries?: number;
  /** The clock, in ms; default `performance.now`. */
  readonly now?: () => number;
}

/**
 * The verdict of {@link cachedDestinationCheck}: `undefined` when the destination may be reached.
 * Remembered verdicts come at once, new ones as a promise.
 */
export type CachedVerdict =
  DestinationProblem | undefined | Promise<DestinationProblem | undefined>;

/**
 * {@link checkDestination} for the send path, remembering verdicts instead of re-deriving them
 * (and, for names, asking DNS) on every request. It answers the same as `checkDestination` but
 * for one case: a host name that was accepted less than `nameTtlMs` ago is accepted without a
 * new lookup. Why each part is safe:
 *
 * - Scheme, credentials and the presence of a host are checked on every call, uncached (they are
 *   cheap and belong to the URL, not the host).
 * - The rest of the verdict depends only on the host — not on the port, path or query — and on
 *   the allowlist and resolver, which are fixed for the cache's lifetime (one guarded client).
 *   The key is the host as the WHATWG parser normalised it, so every spelling of an address
 *   (`2130706433`, `0x7f.1`, `[::ffff:7f00:1]`…) lands on the entry of its canonical form.
 * - For an IP literal the verdict is a pure function of the address and the allowlist: it is
 *   remembered, refusals included, for as long as it stays among the `maxEntries` most recently
 *   added. A refused address is therefore refused every time, by the very same verdict.
 * - For a host name the verdict depends on DNS, which changes. Refusals (a forbidden address, a
 *   name that does not resolve) are not remembered: the next request asks again, so it is
 *   refused again as long as DNS says so, and is let through as soon as DNS is fixed.
 *   Acceptances are remembered for `nameTtlMs` (10 s). That does not widen what can be reached,
 *   because this pre-send check is not what protects a name: every new connection resolves the
 *   name again through {@link guardedLookup}, which refuses any forbidden answer before the
 *   socket connects, and a kept-alive connection goes to the address that was checked when it
 *   was opened. A name that now resolves to an internal address is thus refused at its next new
 *   connection whether or not its acceptance is still remembered; the cache only decides whether
 *   the refusal comes before the request is handed to the agent or from the agent's lookup (both
 *   are `EFORBIDDENDESTINATION`). Lookups of one name in flight at the same time are shared.
 */
export const cachedDestinationCheck = (
  options: DestinationCacheOptions,
): ((url: URL) => CachedVerdict) => {
  const { allowlist } = options;
  const lookup = options.lookup ?? systemResolver;
  const ttl = options.nameTtlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 1024;
  const now = options.now ?? (() => performance.now());
  /** IP literal → its verdict (`null`: allowed). */
  const literals = new Map<string, DestinationProblem | null>();
  /** Accepted host name → when the acceptance lapses. */
  const accepted = new Map<string, number>();
  const inFlight = new Map<string, Promise<DestinationProblem | undefined>>();

  /** Adds an entry, dropping the oldest one when the map is full. */
  const remember = <V>(map: Map<string, V>, key: string, value: V): void => {
    map.delete(key);
    if (map.size >= maxEntries) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, value);
  };

  const judgeName = (host: string): Promise<DestinationProblem | undefined> => {
    const pending = inFlight.get(host);
    if (pending !== undefined) return pending;
    const judged = resolve(host, lookup)
      .then((addresses) => {
        const verdict = judgeAddresses(host, addresses, allowlist);
        if (verdict === undefined) remember(accepted, host, now() + ttl);
        return verdict;
      })
      .finally(() => inFlight.delete(host));
    inFlight.set(host, judged);
    return judged;
  };

  return (url) => {
    const host = hostOf(url);
    if (E.isLeft(host)) return host.left;
    const name = host.right;
    if (isIP(name) !== 0) {
      let verdict = literals.get(name);
      if (verdict === undefined) {
        verdict = firstForbidden(name, [name], allowlist) ?? null;
        remember(literals, name, verdict);
      }
      return verdict ?? undefined;
    }
    const until = accepted.get(name);
    if (until !== undefined && now() < until) return undefined;
    return judgeName(name);
  };
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
 * {@link ForbiddenDestinationError} itself or an error wrapping it (as its `cause`, a few levels
 * deep at most); `undefined` otherwise.
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
 * The connect-time half of the guard: a `lookup` for `net.connect` / `tls.connect` (Node's
 * `net.LookupFunction`; the guarded client gives it to its undici Agent's connector) that resolves like `dns.lookup` and fails with a
 * {@link ForbiddenDestinationError} (code `EFORBIDDENDESTINATION`) when any answer may not be
 * reached, so a name that resolved to a public address at save time and to an internal one now
 * (DNS rebinding) is refused before a socket connects. Answers in both forms Node asks for: one
 * address, or all of them with `{ all: true }` (Node 20's default family autoselection).
 *
 * Node does not call `lookup` for IP literals; the guarded client checks those before sending.
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
