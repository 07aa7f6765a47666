import { createJsonLogger, type Logger } from '../../adapters/logging/logger.js';

/** One JSON log line as the server wrote it. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A logger at debug level that keeps every line it writes, parsed, for a test to inspect. */
export const recordingLogger = (): { readonly logger: Logger; readonly entries: LogEntry[] } => {
  const entries: LogEntry[] = [];
  const logger = createJsonLogger('debug', (line) => {
    entries.push(JSON.parse(line) as LogEntry);
  });
  return { logger, entries };
};
