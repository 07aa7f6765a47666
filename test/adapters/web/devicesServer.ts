import { systemResolver, type HostResolver } from '../../../adapters/outbound/destinationGuard.js';
import { call, startTestServer, type TestServer } from '../../support/testServer.js';
import { BEEPER_PLUGIN } from './beeperPlugin.js';

/**
 * Names under `.example` (the test plugin's default gateway, a webhook endpoint) resolve to
 * 127.0.0.1, which these servers may reach, so the outbound guard passes them when a device is
 * saved; everything else resolves as usual.
 */
export const exampleResolver: HostResolver = (hostname) =>
  hostname.endsWith('.example')
    ? Promise.resolve([{ address: '127.0.0.1', family: 4 }])
    : systemResolver(hostname);

/**
 * A real Tidings for the devices page tests: the web tests' allowlist (127.0.0.1, where the Bark
 * stand-in listens), {@link exampleResolver}, and the beeper test plugin listed in
 * `TIDINGS_CHANNEL_PLUGINS` as an operator would list one.
 */
export const startDevicesServer = (): Promise<TestServer> =>
  startTestServer({
    env: { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1', TIDINGS_CHANNEL_PLUGINS: BEEPER_PLUGIN },
    resolver: exampleResolver,
  });

/** The channel kinds a server lists at `GET /v1/channels`. */
export const kindsOf = async (server: Pick<TestServer, 'base'>): Promise<string[]> =>
  (await call<{ items: { kind: string }[] }>(server.base, 'GET', '/v1/channels')).body.items.map(
    (channel) => channel.kind,
  );
