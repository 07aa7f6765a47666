/**
 * The HTTP client port: how a channel talks to the outside without knowing which library (or
 * which guard) sits behind it. A channel gets one in its context and makes one `request` per
 * attempt; the server hands it the outbound-guarded client, a test may hand it one aimed at a
 * local server (docs/plugins.md, docs/architecture.md).
 */

/** The methods a channel may send with. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request, as a channel describes it. */
export interface HttpRequest {
  readonly method: HttpMethod;
  /** Absolute `http:` or `https:` URL, query included. */
  readonly url: string;
  /**
   * Sent as given (names in any case). The client adds only `Accept`, `User-Agent`,
   * `Accept-Encoding`, `Connection` and, with a body, `Content-Length` when they are not given; no
   * `Content-Type` is implied.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as its UTF-8 bytes; none when absent. */
  readonly body?: string;
  /** Time limit of the whole exchange, connecting and reading the answer included. */
  readonly timeoutMs?: number;
}

/**
 * Why the outbound (SSRF) guard refused a destination; the guard's own, stable reasons:
 *
 * - `invalid_url`, `unsupported_scheme` (not http or https), `credentials_in_url`
 *   (`user:password@`): the URL itself.
 * - `unresolvable`: the host name did not resolve. Unlike the others this may change by itself
 *   (DNS comes back), so a channel may treat it as transient.
 * - the rest name the kind of address the host is, or resolves to, that the server may not
 *   reach unless the operator allowlisted it (`loopback`, `private`, `metadata`…).
 */
export type RefusalReason =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'credentials_in_url'
  | 'unresolvable'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unspecified'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'shared'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

/**
 * The peer's answer, whatever its status (a 3xx too: redirects are never followed). Header names
 * are lower-case, a header sent several times is joined with `, `, and the body is decoded as
 * UTF-8 text.
 */
export interface HttpAnswer {
  readonly kind: 'answered';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The guard refused the destination before anything was sent (or, when DNS changed, before the
 * socket connected); `detail` says why for people.
 */
export interface HttpRefusal {
  readonly kind: 'refused';
  readonly reason: RefusalReason;
  readonly detail: string;
}

/** No complete answer within the time limit. */
export interface HttpTimeout {
  readonly kind: 'timed_out';
  readonly timeoutMs: number;
}

/**
 * Any other failure to get an answer, with the network's `code` (`ECONNREFUSED`, `ECONNRESET`,
 * `ENOTFOUND`…; `ERR_BAD_RESPONSE` for an answer cut short or larger than the client accepts;
 * `ERR_UNKNOWN` when there was none) and its `message`.
 */
export interface HttpFailure {
  readonly kind: 'failed';
  readonly code: string;
  readonly message: string;
}

/** What became of a request: an answer, or one of the ways of getting none. */
export type HttpResult = HttpAnswer | HttpRefusal | HttpTimeout | HttpFailure;

/**
 * The client a channel sends with. `request` never rejects: every outcome is an
 * {@link HttpResult}.
 */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResult>;
}
