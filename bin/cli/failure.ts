import type { FieldProblem } from '../../adapters/http/problem.js';

/**
 * Every way a `tidings` command can end badly, as a value (docs/cli.md "Exit codes"): the
 * commands return them, and only the entry point writes them to stderr and picks the exit code.
 */

export type Failure =
  /** The command line, or a file it names, cannot be used: nothing was asked of the server. */
  | { readonly kind: 'usage'; readonly message: string; readonly usage: string }
  /** The server answered with an `application/problem+json` refusal. */
  | {
      readonly kind: 'problem';
      readonly status: number;
      readonly code: string;
      readonly detail: string;
      readonly fields: readonly FieldProblem[];
      /** Where the credential came from, when the answer is 401. */
      readonly hint?: string;
    }
  /** The server answered an error that is not a problem (a proxy's 502 page, say). */
  | {
      readonly kind: 'http';
      readonly status: number;
      readonly statusText: string;
      readonly body: string;
    }
  /** Nothing answered at the server's URL. */
  | { readonly kind: 'unreachable'; readonly url: string; readonly reason: string }
  /** No token in the environment variable or the data folder's file. */
  | {
      readonly kind: 'no_token';
      readonly who: 'operator' | 'auditor';
      readonly variable: string;
      readonly file: string;
      readonly reason: string;
    }
  /** Anything else that stopped a command midway (an answer of the wrong shape, a full disk). */
  | { readonly kind: 'failed'; readonly message: string };

/** A usage failure: `message`, then the command's usage line. */
export const usageFailure = (message: string, usage: string): Failure => ({
  kind: 'usage',
  message,
  usage,
});

/** A failure for something that went wrong midway. */
export const failed = (message: string): Failure => ({ kind: 'failed', message });

/** 2 when the command line was refused before anything was asked, 1 for every other failure. */
export const exitCodeOf = (failure: Failure): 1 | 2 => (failure.kind === 'usage' ? 2 : 1);

/** What stderr gets for a failure: lines, each starting `tidings:` but for the usage line. */
export const describeFailure = (failure: Failure): string => {
  switch (failure.kind) {
    case 'usage':
      return `tidings: ${failure.message}\nusage: ${failure.usage}\n`;
    case 'problem':
      return [
        `tidings: ${failure.status} ${failure.code}: ${failure.detail}`,
        // The detail often names the first field already; the others get a line each.
        ...failure.fields
          .filter((field) => !failure.detail.includes(`${field.path} ${field.message}`))
          .map((field) => `  ${field.path}: ${field.message}`),
        ...(failure.hint === undefined ? [] : [`tidings: ${failure.hint}`]),
        '',
      ].join('\n');
    case 'http':
      return `tidings: ${failure.status} ${failure.statusText}${failure.body === '' ? '' : `: ${failure.body}`}\n`;
    case 'unreachable':
      return `tidings: cannot reach the Tidings server at ${failure.url}: ${failure.reason} (give --url or set TIDINGS_URL)\n`;
    case 'no_token':
      return `tidings: no ${failure.who} token: ${failure.variable} is not set and ${failure.file} ${failure.reason} (set ${failure.variable}, or give --data-dir or TIDINGS_DATA_DIR for the server's data folder)\n`;
    case 'failed':
      return `tidings: ${failure.message}\n`;
    default: {
      const _exhaustive: never = failure;
      return _exhaustive;
    }
  }
};
