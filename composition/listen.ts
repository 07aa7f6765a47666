import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Settings } from '../adapters/config/settings.js';
import type { StopStack } from './stopStack.js';

/** Requests still running this long after a stop began are cut, so shutdown cannot hang. */
const FORCE_CLOSE_AFTER_MS = 10_000;

/** Listens on the configured address and answers the base URL it can be reached at. */
export const listenHttp = async (
  app: Express,
  settings: Settings,
  stops: StopStack,
): Promise<string> => {
  const server = await listen(app, settings.port, settings.host);
  stops.push(() => closeServer(server));
  return urlOf(settings.host, (server.address() as AddressInfo).port);
};

/** The URL of a listening address; a wildcard address is reached on the loopback. */
const urlOf = (listenHost: string, port: number): string => {
  const host = listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
};

const listen = (app: Express, port: number, host: string): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => {
      resolve(server);
    });
    server.once('error', reject);
  });

/** Stops accepting connections, lets requests in flight finish, drops idle keep-alive sockets. */
const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, FORCE_CLOSE_AFTER_MS).unref();
  });
