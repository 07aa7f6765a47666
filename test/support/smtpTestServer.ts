import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

/** A key and a self-signed certificate for 127.0.0.1, which the client is told to trust as its CA. */
export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

let generated: TestCertificate | undefined;

/**
 * A fresh self-signed certificate for `IP:127.0.0.1`, made once per test run with the `openssl`
 * command (node:crypto can make keys but not certificates). The client verifies it for real by
 * taking it as its only CA, so no test turns certificate checks off.
 */
export const testCertificate = (): TestCertificate => {
  if (generated !== undefined) return generated;
  const dir = mkdtempSync(join(tmpdir(), 'tidings-smtp-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    generated = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    return generated;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** One mail the server accepted. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** The DATA as sent, CRLF line ends, dot-stuffing undone. */
  readonly raw: string;
  /** Whether the session was encrypted (STARTTLS, or implicit TLS) when the mail came. */
  readonly secure: boolean;
  /** Who authenticated, if anyone. */
  readonly user?: string;
}

/** A refusal the server gives at RCPT TO: `code` and the reply text. */
export interface SmtpRefusal {
  readonly code: number;
  readonly message: string;
}

/** How the stand-in behaves. */
export interface SmtpTestServerOptions {
  /** Accepted credentials; AUTH is required when given, with PLAIN and LOGIN offered (or `authMethods`). */
  readonly users?: Readonly<Record<string, string>>;
  readonly authMethods?: readonly string[];
  /** Implicit TLS (`smtps://`) instead of STARTTLS. */
  readonly secure?: boolean;
  /** Do not offer STARTTLS. */
  readonly noStartTls?: boolean;
  /** The certificate the server presents; {@link testCertificate} unless given. */
  readonly certificate?: TestCertificate;
  /** What to answer to RCPT TO for an address; accepted when it gives nothing. */
  readonly onRecipient?: (address: string) => SmtpRefusal | undefined;
  /** Wait this long before answering RCPT TO (a slow or hung server). */
  readonly recipientDelayMs?: number;
}

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1, for one test file. */
export interface SmtpTestServer {
  readonly port: number;
  readonly received: ReceivedMail[];
  /** Every AUTH attempt, as `user:ok` or `user:refused`. */
  readonly authAttempts: string[];
  close(): Promise<void>;
}

/** Starts an {@link SmtpTestServer} on a free port of 127.0.0.1. */
export const startSmtpTestServer = async (
  options: SmtpTestServerOptions = {},
): Promise<SmtpTestServer> => {
  const received: ReceivedMail[] = [];
  const authAttempts: string[] = [];
  const certificate = options.certificate ?? testCertificate();
  const users = options.users;
  const timers = new Set<NodeJS.Timeout>();
  const server = new SMTPServer({
    secure: options.secure ?? false,
    key: certificate.key,
    cert: certificate.cert,
    logger: false,
    disabledCommands: [
      ...(users === undefined ? ['AUTH'] : []),
      ...(options.noStartTls === true ? ['STARTTLS'] : []),
    ],
    authOptional: users === undefined,
    authMethods: [...(options.authMethods ?? ['PLAIN', 'LOGIN'])],
    // smtp-server refuses AUTH over plaintext by default; the tests check that our client never
    // tries, so the server lets it and records the session's state instead.
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      const user = auth.username ?? '';
      if (users !== undefined && users[user] !== undefined && users[user] === auth.password) {
        authAttempts.push(`${user}:ok`);
        callback(null, { user });
      } else {
        authAttempts.push(`${user}:refused`);
        callback(new Error('Invalid username or password'));
      }
    },
    onRcptTo(address, _session, callback) {
      const answer = () => {
        const refusal = options.onRecipient?.(address.address);
        if (refusal === undefined) {
          callback();
          return;
        }
        const error = new Error(refusal.message) as Error & { responseCode: number };
        error.responseCode = refusal.code;
        callback(error);
      };
      if (options.recipientDelayMs === undefined) {
        answer();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, options.recipientDelayMs);
      timers.add(timer);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelopeFrom = session.envelope.mailFrom;
        received.push({
          from: envelopeFrom === false ? '' : envelopeFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        });
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    received,
    authAttempts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => {
          resolve();
        });
      }),
  };
};

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export const closedPort = async (): Promise<number> => {
  const probe = createServer();
  await new Promise<void>((resolve) =>
    probe.listen(0, '127.0.0.1', () => {
      resolve();
    }),
  );
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
};
