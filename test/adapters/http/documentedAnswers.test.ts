import { expect } from 'chai';
import { rawExchange } from '../../support/rawHttp.js';
import { withoutForeignProtocols } from '../../support/foreignProtocols.js';
import { call, startTestServer, type TestServer } from '../../support/testServer.js';

interface Operation {
  readonly responses: Record<
    string,
    {
      readonly content?: Record<string, { readonly examples?: Record<string, unknown> }>;
    }
  >;
}

interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
}

/**
 * Requests every operation can meet before its route runs, each with the problem it must get.
 * Sent raw, so GET routes carry a body too and the HTTP framing can be broken.
 */
const edgeRequests: readonly {
  readonly what: string;
  readonly code: string;
  readonly request: (method: string, path: string) => string;
}[] = [
  {
    what: 'a body that is not JSON',
    code: 'invalid_json',
    request: (method, path) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{`,
  },
  {
    what: 'a JSON body in a charset other than UTF-8',
    code: 'unsupported_media_type',
    request: (method, path) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json; charset=latin1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
  },
  {
    what: 'a body declared over the limit',
    code: 'payload_too_large',
    request: (method, path) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n{`,
  },
  {
    what: 'a malformed Transfer-Encoding',
    code: 'malformed_request',
    request: (method, path) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n`,
  },
  {
    what: 'headers over the limit',
    code: 'headers_too_large',
    request: (method, path) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
  },
];

describe('HTTP answers the API document describes', () => {
  let server: TestServer;
  let document: Document;
  before(async () => {
    server = await startTestServer();
    document = withoutForeignProtocols(
      (await call<Document>(server.base, 'GET', '/openapi.json')).body,
    );
  });
  after(async () => {
    await server.dispose();
  });

  for (const { what, code, request } of edgeRequests) {
    it(`every operation answers ${what} with a status it documents, a problem with ${code}`, async () => {
      let probes = 0;
      for (const [path, item] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          const concrete = path.replace(/\{[^}]+\}/g, 'x');
          const label = `${method.toUpperCase()} ${path}`;
          const reply = await rawExchange(server.base, [request(method.toUpperCase(), concrete)]);
          const documented = operation.responses[String(reply.status)];
          expect(documented, `${label} does not document ${String(reply.status)}`).not.to.equal(
            undefined,
          );
          // Health, readiness and metrics answer before any body is looked at: their own answer.
          if (reply.status !== undefined && reply.status < 400) continue;
          expect(reply.headers['content-type'], label).to.match(/^application\/problem\+json/);
          const body = JSON.parse(reply.body) as { code: string; status: number };
          expect(body.code, label).to.equal(code);
          expect(reply.status, label).to.equal(body.status);
          expect(
            Object.keys(documented?.content?.['application/problem+json']?.examples ?? {}),
            label,
          ).to.include(code);
          probes += 1;
        }
      }
      expect(probes).to.be.greaterThan(30);
    });
  }

  it('answers /metrics in the media type it documents', async () => {
    const documented = Object.keys(
      document.paths['/metrics']?.['get']?.responses['200']?.content ?? {},
    );
    expect(documented).to.deep.equal(['text/plain']);
    const reply = await fetch(`${server.base}/metrics`);
    expect(reply.headers.get('content-type')).to.match(/^text\/plain\b/);
    expect(await reply.text()).to.match(/^# HELP /m);
  });
});
