import type * as t from 'io-ts';
import type { JsonSchema } from './codecs.js';
import type { ProblemCode } from './problem.js';

/** Who may call a route, and how they prove it (docs/api.md, "Credentials"). */
export type RouteAuth = 'none' | 'operator' | 'app' | 'recipient' | 'auditor';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One documented answer of a route. */
export interface RouteResponse {
  readonly description: string;
  /** JSON body codec; absent for an empty body (204), a redirect or a text body. */
  readonly body?: t.Mixed;
  /** The media type of a body that is not JSON (e.g. `text/plain`), documented as a string. */
  readonly mediaType?: string;
}

/**
 * The declaration of one HTTP route: the same codecs validate requests at run time and generate
 * the OpenAPI document, so the two cannot drift apart.
 */
export interface RouteSpec {
  readonly method: HttpMethod;
  /** Express-style path, e.g. `/v1/me/apps/:bindingId`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  /** OpenAPI tag, e.g. `operator`, `recipient`, `app`, `auditor`, `health`. */
  readonly tag: string;
  readonly auth: RouteAuth;
  /** Strict codec of the JSON body (unknown fields are errors). */
  readonly body?: t.Mixed;
  /** Codec of the query string (values arrive as strings). */
  readonly query?: t.Mixed;
  /** Codec of the path parameters. */
  readonly params?: t.Mixed;
  /** Whether the route honours an `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  /** Success answers by status. */
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /** Error codes this route can answer with, besides the ones every route can (documented from the catalogue). */
  readonly errors?: readonly ProblemCode[];
  /**
   * A route that speaks another server's protocol (the compatible ingress speaks Bark's and
   * ntfy's): it reads its own bodies, of these media types, and answers its errors in that
   * protocol's shape instead of problem+json. Documented as such (`x-tidings-protocol`).
   */
  readonly protocol?: ForeignProtocol;
}

/** How a route of another server's protocol is documented (see {@link RouteSpec.protocol}). */
export interface ForeignProtocol {
  readonly name: 'bark' | 'ntfy';
  /** Request bodies by media type. */
  readonly requestBodies?: Readonly<Record<string, JsonSchema>>;
  /** Its error answers: their statuses, each with this body. */
  readonly errors: { readonly statuses: readonly number[]; readonly body: t.Mixed };
  /** Request headers it reads (ntfy's `X-Title`, …), with what each means. */
  readonly headers?: Readonly<Record<string, string>>;
}
