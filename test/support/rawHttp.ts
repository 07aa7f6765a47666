import { connect, type Socket } from 'node:net';

/** What came back on a raw connection: the parsed answer (if any) and when the server closed it. */
export interface RawExchange {
  /** The status of the answer, `undefined` when the server closed without one. */
  readonly status?: number;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from connecting to the server closing the connection. */
  readonly closedAfterMs: number;
}

const parse = (raw: string, closedAfterMs: number): RawExchange => {
  const split = raw.indexOf('\r\n\r\n');
  if (raw === '' || split < 0) return { headers: {}, body: raw, closedAfterMs };
  const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  return {
    ...(Number.isNaN(status) ? {} : { status }),
    headers,
    body: raw.slice(split + 4),
    closedAfterMs,
  };
};

/**
 * Opens a TCP connection to `base` (`http://host:port`), writes `parts` in order — a string is
 * sent, a number waits that many milliseconds — and resolves with what the server answered once
 * it closes the connection (or after `giveUpMs`, then with what had come so far). Writes after
 * the server closed are dropped. For requests `fetch` cannot make: malformed, slow or oversized.
 */
export const rawExchange = (
  base: string,
  parts: readonly (string | number)[],
  giveUpMs = 15_000,
): Promise<RawExchange> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const socket: Socket = connect({ host: hostname, port: Number(port) });
    const started = Date.now();
    let received = '';
    let closed = false;
    const finish = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve(parse(received, Date.now() - started));
    };
    const giveUp = setTimeout(finish, giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer still counts as a close; before any connection it is a failure.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else if (!closed) {
        closed = true;
        clearTimeout(giveUp);
        reject(error);
      }
    });
    socket.once('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (closed || socket.destroyed) return;
          if (typeof part === 'number') await new Promise((wait) => setTimeout(wait, part));
          else socket.write(part);
        }
      })();
    });
  });
