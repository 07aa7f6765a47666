import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import {
  FORBIDDEN_DESTINATION,
  ForbiddenDestinationError,
  cachedDestinationCheck,
  checkDestination,
  destinationProblemOf,
  guardedLookup,
  type DestinationProblem,
  type DestinationReason,
  type HostResolver,
} from '../../../adapters/outbound/destinationGuard.js';
import {
  createGuardedHttpClient,
  type GuardedHttpClient,
  type GuardedHttpClientOptions,
} from '../../../adapters/outbound/guardedHttpClient.js';
import type { HttpClient, HttpRefusal, HttpResult } from '../../../channels/httpClient.js';

// No test here may send traffic anywhere but loopback, even if the guard were broken. Every
// socket connect in this file goes through `connectSpy`, which records it and lets it proceed
// only to loopback: IP literals must be loopback; `localhost` resolves from /etc/hosts; the test
// names `rebind.test` and `bark.lan` must come with a lookup (the guard's, fed by a test
// resolver), whose answers are checked to be loopback before the socket may use them, so a
// broken guard can neither query real DNS for them nor connect anywhere else. Refusals are
// asserted to happen with no connect attempt at all.

interface ConnectAttempt {
  readonly host: string | undefined;
  readonly port: unknown;
}

const loopbackOnly = new Set(['127.0.0.1', '::1']);
const testNames = new Set(['rebind.test', 'bark.lan']);

/** Wraps a lookup so that it fails instead of answering anything but loopback. */
const confinedToLoopback =
  (lookup: net.LookupFunction): net.LookupFunction =>
  (hostname, options, callback) => {
    lookup(hostname, options, (error, address, family) => {
      const answers = typeof address === 'string' ? [address] : address.map((a) => a.address);
      if (error === null && answers.some((answer) => !loopbackOnly.has(answer))) {
        callback(new Error(`test safety net: ${hostname} answered ${answers.join(', ')}`), '');
      } else {
        callback(error, address, family);
      }
    });
  };

const connectDescriptor = Object.getOwnPropertyDescriptor(net.Socket.prototype, 'connect')!;
const originalConnect = connectDescriptor.value as (
  this: net.Socket,
  ...args: unknown[]
) => net.Socket;

const connectSpy = {
  attempts: [] as ConnectAttempt[],
  install(): void {
    const attempts = this.attempts;
    const connect = function (this: net.Socket, ...args: unknown[]) {
      // net.connect passes its normalised [options, callback] array as the only argument.
      const first: unknown = Array.isArray(args[0]) ? args[0][0] : args[0];
      const options = (typeof first === 'object' && first !== null ? first : {}) as {
        host?: string;
        port?: unknown;
        path?: string | null;
        lookup?: net.LookupFunction;
      };
      const attempt = { host: options.host, port: options.port };
      attempts.push(attempt);
      const host = options.host ?? 'localhost';
      const safe =
        !options.path &&
        (loopbackOnly.has(host) ||
          host === 'localhost' ||
          (testNames.has(host) && options.lookup !== undefined));
      if (!safe) {
        throw new Error(`test safety net: refusing to connect to ${JSON.stringify(attempt)}`);
      }
      if (options.lookup !== undefined) options.lookup = confinedToLoopback(options.lookup);
      return originalConnect.apply(this, args);
    };
    Object.defineProperty(net.Socket.prototype, 'connect', {
      ...connectDescriptor,
      value: connect,
    });
  },
  restore(): void {
    Object.defineProperty(net.Socket.prototype, 'connect', connectDescriptor);
  },
  reset(): void {
    this.attempts.length = 0;
  },
};

/** A resolver with canned answers that records the names it was asked for. */
const cannedResolver = (answers: Readonly<Record<string, readonly string[] | Error>>) => {
  const asked: string[] = [];
  const resolver: HostResolver = (hostname) => {
    asked.push(hostname);
    const answer = answers[hostname];
    if (answer === undefined) {
      return Promise.reject(new Error(`test resolver: unexpected lookup of ${hostname}`));
    }
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(
      answer.map((address): LookupAddress => ({ address, family: net.isIP(address) })),
    );
  };
  return { resolver, asked };
};

const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), {
  code: 'ENOTFOUND',
});

const problemOf = async (
  url: string,
  options: Parameters<typeof checkDestination>[1],
): Promise<DestinationProblem> => {
  const checked = await checkDestination(url, options);
  if (E.isRight(checked)) {
    return expect.fail(`expected ${url} to be refused, got ${checked.right.addresses.join(', ')}`);
  }
  return checked.left;
};

const accepted = async (url: string, options: Parameters<typeof checkDestination>[1]) => {
  const checked = await checkDestination(url, options);
  if (E.isLeft(checked)) {
    return expect.fail(`expected ${url} to be accepted, got ${JSON.stringify(checked.left)}`);
  }
  return checked.right;
};

describe('destination guard', () => {
  before(() => {
    connectSpy.install();
  });
  after(() => {
    connectSpy.restore();
  });
  beforeEach(() => {
    connectSpy.reset();
  });

  describe('checkDestination', () => {
    /** URL, expected reason, canned DNS answers (`system` = the real resolver, /etc/hosts). */
    const refused: readonly (readonly [
      url: string,
      reason: DestinationReason,
      dns?: Readonly<Record<string, readonly string[] | Error>> | 'system',
    ])[] = [
      ['http://127.0.0.1', 'loopback'],
      ['http://localhost', 'loopback', 'system'],
      ['http://localhost:8080/push', 'loopback', 'system'],
      ['http://2130706433', 'loopback'],
      ['http://0x7f000001', 'loopback'],
      ['http://0x7f.1/', 'loopback'],
      ['http://0177.0.0.1', 'loopback'],
      ['http://127.1', 'loopback'],
      ['http://[::1]', 'loopback'],
      ['http://[::ffff:127.0.0.1]', 'loopback'],
      ['http://[::ffff:7f00:1]:8080/', 'loopback'],
      ['https://[64:ff9b::7f00:1]/', 'loopback'],
      ['http://[2002:7f00:1::1]/', 'loopback'],
      ['http://10.1.2.3', 'private'],
      ['http://012.1.2.3', 'private'],
      ['http://172.16.0.1', 'private'],
      ['http://192.168.1.1', 'private'],
      ['http://3232235777', 'private'],
      ['http://[fd00::1]', 'private'],
      ['http://169.254.169.254/latest/meta-data', 'metadata'],
      ['http://0xa9fea9fe/latest/meta-data', 'metadata'],
      ['http://[fd00:ec2::254]/latest/meta-data', 'metadata'],
      ['http://100.100.100.200', 'metadata'],
      ['http://[fe80::1]', 'link_local'],
      ['http://169.254.1.1', 'link_local'],
      ['http://0.0.0.0', 'unspecified'],
      ['http://0', 'unspecified'],
      ['http://[::]', 'unspecified'],
      ['http://100.64.1.1', 'shared'],
      ['http://224.0.0.1', 'multicast'],
      ['http://255.255.255.255', 'broadcast'],
      ['http://internal.example', 'private', { 'internal.example': ['10.0.0.5'] }],
      ['http://v6.internal.example', 'private', { 'v6.internal.example': ['fd12::5'] }],
      // Any forbidden answer refuses: a connection may use any of them.
      ['http://mixed.example', 'loopback', { 'mixed.example': ['93.184.215.14', '127.0.0.1'] }],
      ['http://nowhere.example', 'unresolvable', { 'nowhere.example': notFound }],
      ['http://empty.example', 'unresolvable', { 'empty.example': [] }],
      ['ftp://example.com', 'unsupported_scheme'],
      ['file:///etc/passwd', 'unsupported_scheme'],
      ['javascript:alert(1)', 'unsupported_scheme'],
      ['data:text/plain,hello', 'unsupported_scheme'],
      ['gopher://127.0.0.1:6379/_INFO', 'unsupported_scheme'],
      ['https://user:secret@example.com/', 'credentials_in_url'],
      ['https://93.184.215.14@127.0.0.1/', 'credentials_in_url'],
      ['not a url', 'invalid_url'],
      ['/relative/path', 'invalid_url'],
      ['', 'invalid_url'],
    ];

    for (const [url, reason, dns] of refused) {
      it(`refuses ${JSON.stringify(url)} as ${reason}, without connecting`, async () => {
        const canned = cannedResolver(dns === 'system' || dns === undefined ? {} : dns);
        const options =
          dns === 'system'
            ? { allowlist: emptyAllowlist }
            : { allowlist: emptyAllowlist, lookup: canned.resolver };
        const problem = await problemOf(url, options);
        expect(problem.reason).to.equal(reason);
        expect(problem.detail).to.be.a('string').that.is.not.empty;
        expect(connectSpy.attempts).to.deep.equal([]);
        // IP literals are judged without DNS.
        expect(canned.asked).to.deep.equal(
          dns === undefined || dns === 'system' ? [] : [new URL(url).hostname],
        );
      });
    }

    it('names the refused address and the host that resolved to it', async () => {
      const { resolver } = cannedResolver({ 'internal.example': ['10.0.0.5'] });
      const problem = await problemOf('https://internal.example/push', {
        allowlist: emptyAllowlist,
        lookup: resolver,
      });
      expect(problem.address).to.equal('10.0.0.5');
      expect(problem.detail).to.include('10.0.0.5').and.include('internal.example');
    });

    it('accepts a host resolving to a public address, without connecting', async () => {
      const { resolver, asked } = cannedResolver({ 'bark.example.com': ['93.184.215.14'] });
      const destination = await accepted('https://bark.example.com/key/title', {
        allowlist: emptyAllowlist,
        lookup: resolver,
      });
      expect(destination.url.href).to.equal('https://bark.example.com/key/title');
      expect(destination.addresses).to.deep.equal(['93.184.215.14']);
      expect(asked).to.deep.equal(['bark.example.com']);
      expect(connectSpy.attempts).to.deep.equal([]);
    });

    it('accepts public IP literals without DNS or connecting', async () => {
      const { resolver, asked } = cannedResolver({});
      const options = { allowlist: emptyAllowlist, lookup: resolver };
      expect((await accepted('http://93.184.215.14/', options)).addresses).to.deep.equal([
        '93.184.215.14',
      ]);
      expect((await accepted('https://[2606:4700::1111]/', options)).addresses).to.deep.equal([
        '2606:4700::1111',
      ]);
      expect(asked).to.deep.equal([]);
      expect(connectSpy.attempts).to.deep.equal([]);
    });

    it('lets an allowlisted address through, in any spelling', async () => {
      const options = { allowlist: parseAllowlist(['127.0.0.1']) };
      expect((await accepted('http://127.0.0.1:8080/', options)).addresses).to.deep.equal([
        '127.0.0.1',
      ]);
      expect((await accepted('http://2130706433/', options)).addresses).to.deep.equal([
        '127.0.0.1',
      ]);
      expect((await accepted('http://[::ffff:127.0.0.1]/', options)).url.hostname).to.equal(
        '[::ffff:7f00:1]',
      );
      expect((await problemOf('http://127.0.0.2/', options)).reason).to.equal('loopback');
      expect(connectSpy.attempts).to.deep.equal([]);
    });

    it('lets addresses in an allowlisted CIDR block through, literal or resolved', async () => {
      const { resolver } = cannedResolver({
        'nas.lan': ['10.0.0.5'],
        'printer.lan': ['192.168.1.20'],
      });
      const options = { allowlist: parseAllowlist(['10.0.0.0/8', 'fd00::/8']), lookup: resolver };
      await accepted('http://10.1.2.3/', options);
      await accepted('http://[fd00::1]/', options);
      expect((await accepted('http://nas.lan/', options)).addresses).to.deep.equal(['10.0.0.5']);
      expect((await problemOf('http://172.16.0.1/', options)).reason).to.equal('private');
      expect((await problemOf('http://printer.lan/', options)).reason).to.equal('private');
      expect(connectSpy.attempts).to.deep.equal([]);
    });

    it('lets an allowlisted host name through whatever it resolves to', async () => {
      const { resolver } = cannedResolver({
        'bark.lan': ['192.168.1.10', 'fd00::10'],
        'other.lan': ['192.168.1.10'],
        'sub.bark.lan': ['192.168.1.11'],
      });
      const options = { allowlist: parseAllowlist(['Bark.LAN']), lookup: resolver };
      expect((await accepted('https://bark.lan/', options)).addresses).to.deep.equal([
        '192.168.1.10',
        'fd00::10',
      ]);
      expect((await problemOf('https://other.lan/', options)).reason).to.equal('private');
      expect((await problemOf('https://sub.bark.lan/', options)).reason).to.equal('private');
      expect(connectSpy.attempts).to.deep.equal([]);
    });
  });

  describe('cachedDestinationCheck', () => {
    /** A clock the test moves by hand. */
    const clock = () => {
      let now = 1_000;
      return {
        now: () => now,
        advance: (ms: number) => {
          now += ms;
        },
      };
    };

    it('refuses a forbidden IP literal every time, in every spelling, without DNS', async () => {
      const { resolver, asked } = cannedResolver({});
      const check = cachedDestinationCheck({ allowlist: emptyAllowlist, lookup: resolver });
      for (let round = 0; round < 3; round += 1) {
        for (const url of [
          'http://127.0.0.1:8080/push',
          'http://2130706433/',
          'http://0x7f.1/',
          'https://[::ffff:127.0.0.1]/',
          'http://169.254.169.254/latest',
        ]) {
          const verdict = await check(new URL(url));
          expect(verdict?.reason, url).to.be.oneOf(['loopback', 'metadata']);
        }
      }
      expect(asked).to.deep.equal([]);
    });

    it('answers remembered IP-literal verdicts at once, the same as checkDestination', async () => {
      const options = { allowlist: parseAllowlist(['127.0.0.1', '10.0.0.0/8']) };
      const check = cachedDestinationCheck(options);
      for (const url of [
        'http://127.0.0.1:1/',
        'http://127.0.0.2/',
        'http://10.1.2.3/',
        'http://172.16.0.1/',
        'http://93.184.215.14/',
        'https://[2606:4700::1111]/',
      ]) {
        const expected = await checkDestination(url, options);
        const first = await check(new URL(url));
        const again = check(new URL(url));
        expect(again, `${url} is answered at once the second time`).to.not.be.instanceOf(Promise);
        expect(again).to.deep.equal(first);
        expect(first, url).to.deep.equal(E.isLeft(expected) ? expected.left : undefined);
      }
    });

    it('checks scheme and credentials on every call, whatever it remembers for the host', async () => {
      const { resolver } = cannedResolver({ 'bark.example.com': ['93.184.215.14'] });
      const check = cachedDestinationCheck({ allowlist: emptyAllowlist, lookup: resolver });
      expect(await check(new URL('https://bark.example.com/push'))).to.equal(undefined);
      expect(await check(new URL('http://93.184.215.14/'))).to.equal(undefined);
      expect((await check(new URL('ftp://bark.example.com/')))?.reason).to.equal(
        'unsupported_scheme',
      );
      expect((await check(new URL('https://u:p@bark.example.com/')))?.reason).to.equal(
        'credentials_in_url',
      );
      expect((await check(new URL('https://u@93.184.215.14/')))?.reason).to.equal(
        'credentials_in_url',
      );
    });

    it('remembers an accepted host name for the TTL, then asks DNS again', async () => {
      const { resolver, asked } = cannedResolver({ 'bark.example.com': ['93.184.215.14'] });
      const time = clock();
      const check = cachedDestinationCheck({
        allowlist: emptyAllowlist,
        lookup: resolver,
        nameTtlMs: 10_000,
        now: time.now,
      });
      const url = new URL('https://bark.example.com/push');
      expect(await check(url)).to.equal(undefined);
      time.advance(9_999);
      expect(check(url)).to.equal(undefined);
      expect(asked).to.deep.equal(['bark.example.com']);
      time.advance(1);
      expect(await check(url)).to.equal(undefined);
      expect(asked).to.deep.equal(['bark.example.com', 'bark.example.com']);
    });

    it('never remembers a refused host name: refused every time, let through once DNS is fixed', async () => {
      const answers: Record<string, readonly string[] | Error> = {
        'bark.example.com': ['93.184.215.14', '10.0.0.5'],
        'gone.example.com': notFound,
      };
      const { resolver, asked } = cannedResolver(answers);
      const check = cachedDestinationCheck({ allowlist: emptyAllowlist, lookup: resolver });
      for (let round = 0; round < 3; round += 1) {
        expect(await check(new URL('https://bark.example.com/'))).to.include({
          reason: 'private',
          address: '10.0.0.5',
        });
        expect((await check(new URL('https://gone.example.com/')))?.reason).to.equal(
          'unresolvable',
        );
      }
      expect(asked.filter((name) => name === 'bark.example.com')).to.have.length(3);
      expect(asked.filter((name) => name === 'gone.example.com')).to.have.length(3);
      answers['bark.example.com'] = ['93.184.215.14'];
      expect(await check(new URL('https://bark.example.com/'))).to.equal(undefined);
    });

    it('shares one lookup between checks of a name made at the same time', async () => {
      const { resolver, asked } = cannedResolver({ 'bark.example.com': ['93.184.215.14'] });
      const check = cachedDestinationCheck({ allowlist: emptyAllowlist, lookup: resolver });
      const verdicts = await Promise.all(
        Array.from({ length: 5 }, () =>
          Promise.resolve(check(new URL('https://bark.example.com/push'))),
        ),
      );
      expect(verdicts).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
      expect(asked).to.deep.equal(['bark.example.com']);
    });

    it('keeps at most maxEntries hosts, dropping the oldest', async () => {
      const { resolver, asked } = cannedResolver({
        'a.example.com': ['93.184.215.14'],
        'b.example.com': ['93.184.215.15'],
        'c.example.com': ['93.184.215.16'],
      });
      const check = cachedDestinationCheck({
        allowlist: emptyAllowlist,
        lookup: resolver,
        maxEntries: 2,
      });
      for (const host of ['a', 'b', 'c', 'b', 'c', 'a']) {
        expect(await check(new URL(`https://${host}.example.com/`))).to.equal(undefined);
      }
      expect(asked).to.deep.equal([
        'a.example.com',
        'b.example.com',
        'c.example.com',
        'a.example.com',
      ]);
    });
  });

  describe('guardedLookup', () => {
    const call = (
      lookup: net.LookupFunction,
      hostname: string,
      options: Parameters<net.LookupFunction>[1],
    ) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>(
        (resolve) => {
          lookup(hostname, options, (error, address, family) => {
            resolve(family === undefined ? { error, address } : { error, address, family });
          });
        },
      );

    const { resolver } = cannedResolver({
      'public.example': ['93.184.215.14', '2606:4700::1111'],
      'internal.example': ['93.184.215.14', '10.0.0.5'],
      'nowhere.example': notFound,
    });

    it('answers one address, or all of them with { all: true }', async () => {
      const lookup = guardedLookup(emptyAllowlist, resolver);
      expect(await call(lookup, 'public.example', {})).to.deep.equal({
        error: null,
        address: '93.184.215.14',
        family: 4,
      });
      expect(await call(lookup, 'public.example', { all: true })).to.deep.equal({
        error: null,
        address: [
          { address: '93.184.215.14', family: 4 },
          { address: '2606:4700::1111', family: 6 },
        ],
      });
      expect(await call(lookup, 'public.example', { family: 6 })).to.deep.equal({
        error: null,
        address: '2606:4700::1111',
        family: 6,
      });
    });

    it('fails with EFORBIDDENDESTINATION when any answer is forbidden', async () => {
      const lookup = guardedLookup(emptyAllowlist, resolver);
      for (const options of [{}, { all: true }]) {
        const { error } = await call(lookup, 'internal.example', options);
        expect(error).to.be.instanceOf(ForbiddenDestinationError);
        expect(error?.code).to.equal(FORBIDDEN_DESTINATION);
        expect(destinationProblemOf(error)).to.include({ reason: 'private', address: '10.0.0.5' });
      }
    });

    it('lets allowlisted hosts and addresses through', async () => {
      expect(
        (
          await call(
            guardedLookup(parseAllowlist(['internal.example']), resolver),
            'internal.example',
            { all: true },
          )
        ).error,
      ).to.equal(null);
      expect(
        (
          await call(
            guardedLookup(parseAllowlist(['10.0.0.0/8']), resolver),
            'internal.example',
            {},
          )
        ).error,
      ).to.equal(null);
    });

    it('passes resolution failures on', async () => {
      const { error } = await call(guardedLookup(emptyAllowlist, resolver), 'nowhere.example', {});
      expect(error?.code).to.equal('ENOTFOUND');
    });

    it('resolves real names with the system resolver (localhost from /etc/hosts)', async () => {
      const { error } = await call(guardedLookup(emptyAllowlist), 'localhost', { all: true });
      expect(destinationProblemOf(error)?.reason).to.equal('loopback');
      const allowed = await call(guardedLookup(parseAllowlist(['localhost'])), 'localhost', {});
      expect(allowed.error).to.equal(null);
      expect(net.isIP(String(allowed.address))).to.not.equal(0);
    });
  });

  describe('createGuardedHttpClient (connect time, against loopback servers)', () => {
    interface CountingServer {
      readonly server: http.Server;
      readonly port: number;
      connections: number;
      requests: string[];
    }

    const listen = async (handler: http.RequestListener): Promise<CountingServer> => {
      const server = http.createServer();
      const counting = { server, port: 0, connections: 0, requests: [] as string[] };
      server.on('connection', () => {
        counting.connections += 1;
      });
      server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
        counting.requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
        handler(request, response);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      counting.port = (server.address() as AddressInfo).port;
      return counting;
    };

    const close = (counting: CountingServer) =>
      new Promise<void>((resolve) => {
        counting.server.closeAllConnections();
        counting.server.close(() => {
          resolve();
        });
      });

    let target: CountingServer;
    let origin: CountingServer;
    const clients: GuardedHttpClient[] = [];
    const guarded = (options: GuardedHttpClientOptions): GuardedHttpClient => {
      const client = createGuardedHttpClient(options);
      clients.push(client);
      return client;
    };
    const get = (client: HttpClient, url: string): Promise<HttpResult> =>
      client.request({ method: 'GET', url });

    before(async () => {
      target = await listen((_request, response) => response.end('redirect target'));
      origin = await listen((request, response) => {
        if (request.url === '/redirect') {
          response.writeHead(302, { location: `http://127.0.0.1:${target.port}/target` });
          response.end();
        } else if (request.url === '/unavailable') {
          response.writeHead(503, { 'retry-after': '7' });
          response.end('busy');
        } else if (request.url === '/last') {
          // The client must not reuse this connection: the next request opens a new one.
          response.writeHead(200, { connection: 'close' });
          response.end('ok');
        } else {
          response.end('ok');
        }
      });
    });

    after(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all([close(origin), close(target)]);
    });

    beforeEach(() => {
      for (const server of [origin, target]) {
        server.connections = 0;
        server.requests = [];
      }
    });

    /**
     * One turn of the event loop: undici hands a connection whose answer is in to the next
     * request only after that (in case the server closes it after all).
     */
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

    /** The refusal a result is; fails the test when it is anything else. */
    const refusal = (result: HttpResult): HttpRefusal =>
      result.kind === 'refused'
        ? result
        : expect.fail(`expected the request to be refused, got ${JSON.stringify(result)}`);

    const body = (result: HttpResult): string =>
      result.kind === 'answered'
        ? result.body
        : expect.fail(`expected an answer, got ${JSON.stringify(result)}`);

    it('reaches an allowlisted local server, keeping the connection alive', async () => {
      const client = guarded({ allowlist: parseAllowlist(['127.0.0.1']) });
      expect(body(await get(client, `http://127.0.0.1:${origin.port}/ok`))).to.equal('ok');
      await nextTurn();
      expect(body(await get(client, `http://127.0.0.1:${origin.port}/again`))).to.equal('ok');
      expect(origin.requests).to.deep.equal(['GET /ok', 'GET /again']);
      expect(origin.connections).to.equal(1);
    });

    it('answers error statuses instead of failing', async () => {
      const client = guarded({ allowlist: parseAllowlist(['127.0.0.1']) });
      const result = await get(client, `http://127.0.0.1:${origin.port}/unavailable`);
      expect(result).to.deep.include({ kind: 'answered', status: 503, body: 'busy' });
      expect(result.kind === 'answered' && result.headers['retry-after']).to.equal('7');
    });

    it('answers a redirect without following it', async () => {
      const client = guarded({ allowlist: parseAllowlist(['127.0.0.1']) });
      const result = await get(client, `http://127.0.0.1:${origin.port}/redirect`);
      expect(result).to.deep.include({ kind: 'answered', status: 302 });
      expect(result.kind === 'answered' && result.headers['location']).to.equal(
        `http://127.0.0.1:${target.port}/target`,
      );
      expect(origin.requests).to.deep.equal(['GET /redirect']);
      expect(target.connections).to.equal(0);
      expect(target.requests).to.deep.equal([]);
    });

    it('refuses a loopback IP literal before opening a socket', async () => {
      const client = guarded({ allowlist: emptyAllowlist });
      const refused = refusal(await get(client, `http://127.0.0.1:${origin.port}/ok`));
      expect(refused.reason).to.equal('loopback');
      expect(connectSpy.attempts).to.deep.equal([]);
      expect(origin.connections).to.equal(0);
    });

    it('refuses other spellings and names of the loopback server before opening a socket', async () => {
      const client = guarded({ allowlist: emptyAllowlist });
      for (const [url, reason] of [
        [`http://localhost:${origin.port}/ok`, 'loopback'],
        [`http://2130706433:${origin.port}/ok`, 'loopback'],
        [`http://0x7f.1:${origin.port}/ok`, 'loopback'],
        [`http://[::ffff:127.0.0.1]:${origin.port}/ok`, 'loopback'],
        [`ftp://127.0.0.1:${origin.port}/ok`, 'unsupported_scheme'],
        [`http://user:pw@127.0.0.1:${origin.port}/ok`, 'credentials_in_url'],
      ] as const) {
        expect(refusal(await get(client, url)).reason, url).to.equal(reason);
      }
      expect(connectSpy.attempts).to.deep.equal([]);
      expect(origin.connections).to.equal(0);
    });

    it('refuses at connect time when DNS changes after the check (rebinding)', async () => {
      const asked: string[] = [];
      // Hands the public address only to the check, which never connects: once a socket is
      // connecting to rebind.test (the spy saw it), the answer is the loopback server.
      const rebinding: HostResolver = (hostname) => {
        asked.push(hostname);
        const connecting = connectSpy.attempts.some((attempt) => attempt.host === hostname);
        const address = connecting ? '127.0.0.1' : '93.184.215.14';
        return Promise.resolve([{ address, family: 4 }]);
      };
      const client = guarded({ allowlist: emptyAllowlist, lookup: rebinding });
      const refused = refusal(await get(client, `http://rebind.test:${origin.port}/ok`));
      expect(refused.reason).to.equal('loopback');
      expect(refused.detail).to.match(/^127\.0\.0\.1 is a loopback address \(rebind\.test/);
      expect(asked).to.deep.equal(['rebind.test', 'rebind.test']);
      expect(connectSpy.attempts.map((attempt) => attempt.host)).to.deep.equal(['rebind.test']);
      expect(origin.connections).to.equal(0);
      expect(origin.requests).to.deep.equal([]);
    });

    it('refuses a forbidden IP literal every time, never connecting', async () => {
      const client = guarded({ allowlist: emptyAllowlist });
      for (let round = 0; round < 3; round += 1) {
        expect(refusal(await get(client, `http://127.0.0.1:${origin.port}/ok`)).reason).to.equal(
          'loopback',
        );
      }
      expect(connectSpy.attempts).to.deep.equal([]);
      expect(origin.connections).to.equal(0);
    });

    it('lets an allowlisted address through every time', async () => {
      const client = guarded({ allowlist: parseAllowlist(['127.0.0.1']) });
      for (let round = 0; round < 3; round += 1) {
        expect(body(await get(client, `http://127.0.0.1:${origin.port}/ok`))).to.equal('ok');
      }
      expect(origin.requests).to.deep.equal(['GET /ok', 'GET /ok', 'GET /ok']);
    });

    it('keeps each client to its own allowlist', async () => {
      const permissive = guarded({ allowlist: parseAllowlist(['127.0.0.1']) });
      const strict = guarded({ allowlist: emptyAllowlist });
      expect(await get(permissive, `http://127.0.0.1:${origin.port}/ok`)).to.deep.include({
        kind: 'answered',
        status: 200,
      });
      const refused = refusal(await get(strict, `http://127.0.0.1:${origin.port}/ok`));
      expect(refused.reason).to.equal('loopback');
    });

    it('refuses a name whose DNS answer turned internal at its next new connection, though its acceptance is remembered', async () => {
      const answers: Record<string, readonly string[]> = { 'rebind.test': ['127.0.0.1'] };
      const { resolver, asked } = cannedResolver(answers);
      // 127.0.0.1 may be used (the loopback test server); 10.0.0.5 may not.
      const client = guarded({ allowlist: parseAllowlist(['127.0.0.1']), lookup: resolver });
      const url = `http://rebind.test:${origin.port}`;
      expect(body(await get(client, `${url}/ok`))).to.equal('ok');
      // Checked before sending, and again when the connection was opened.
      expect(asked).to.deep.equal(['rebind.test', 'rebind.test']);

      answers['rebind.test'] = ['10.0.0.5'];
      await nextTurn();
      // The kept-alive connection goes to the address checked when it was opened; the name's
      // acceptance is remembered, so nothing asks DNS. The server closes that connection after
      // answering.
      expect(body(await get(client, `${url}/last`))).to.equal('ok');
      expect(asked).to.have.length(2);
      expect(origin.connections).to.equal(1);
      await nextTurn();

      // A new connection resolves the name again, and the internal answer is refused.
      const refused = refusal(await get(client, `${url}/ok`));
      expect(refused.reason).to.equal('private');
      expect(refused.detail).to.match(/^10\.0\.0\.5 is a private address/);
      expect(asked).to.deep.equal(['rebind.test', 'rebind.test', 'rebind.test']);
      expect(origin.connections).to.equal(1);
      expect(origin.requests).to.deep.equal(['GET /ok', 'GET /last']);
    });

    it('connects through the guarded lookup when the name stays allowlisted', async () => {
      const { resolver } = cannedResolver({ 'bark.lan': ['127.0.0.1'] });
      const client = guarded({ allowlist: parseAllowlist(['bark.lan']), lookup: resolver });
      const result = await get(client, `http://bark.lan:${origin.port}/ok`);
      expect(result).to.deep.include({ kind: 'answered', status: 200, body: 'ok' });
      expect(origin.requests).to.deep.equal(['GET /ok']);
    });
  });
});
