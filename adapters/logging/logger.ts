import type { LogFields, Logger } from '../../domain/shared/logger.js';

export type { LogFields, Logger } from '../../domain/shared/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/**
 * Writes JSON lines (`{ time, level, msg, ...fields }`) to a sink, stdout by default. Errors in
 * fields are expanded to their message and stack so they survive JSON.
 */
export const createJsonLogger = (
  level: LogLevel = 'info',
  sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  base: LogFields = {},
): Logger => {
  const write =
    (lineLevel: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: LogFields = {}): void => {
      if (rank[lineLevel] < rank[level]) return;
      sink(
        JSON.stringify(
          { time: new Date().toISOString(), level: lineLevel, msg: message, ...base, ...fields },
          (_key, value: unknown) =>
            value instanceof Error
              ? { name: value.name, message: value.message, stack: value.stack }
              : typeof value === 'bigint'
                ? value.toString()
                : value,
        ),
      );
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => createJsonLogger(level, sink, { ...base, ...fields }),
  };
};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createJsonLogger('silent');
