import type { Violation } from './oracle.js';

/**
 * What a refused request may leave in the server's log: nothing at warn or error level (issue 12:
 * a client's mistake is the client's business, and a flood of refusals must not flood the log).
 * The log is JSON lines (`{ time, level, msg, ...fields }`); the fuzzer is handed the warn- and
 * error-level ones written while each request was in flight and judges them here:
 *
 * - every error-level line counts, whoever wrote it: a client's mistake is never an error, and an
 *   error in the background while the request ran is worth a look anyway;
 * - a warn-level line counts unless a background worker wrote it (it carries the `processor` or
 *   `component` field that Tidings' reactors, delivery worker, scheduler and channels log with)
 *   and it does not name the request. Those workers warn about their own work (a delivery outcome
 *   refused, a recall the device did not confirm), which runs while requests are answered; a
 *   refused request could only have set them off by writing an event, which the event rule
 *   already catches.
 *
 * Nothing else is exempt, rate limiting included: a 429 is a refusal like any other, and logging
 * each one at warn would hand a flood of requests a flood of log lines.
 */

/** A log line as the fuzzer reads it. */
export interface LogLine {
  readonly level: string;
  /** Written by a background worker (it carries `processor` or `component`). */
  readonly background: boolean;
  /** The request it names (`requestId` or `correlationId`), if any. */
  readonly requestId?: string;
  readonly text: string;
}

const fieldText = (fields: Record<string, unknown>, name: string): string | undefined =>
  typeof fields[name] === 'string' ? fields[name] : undefined;

/** Reads one line; a line that is not a JSON object is taken for a warning of unknown origin. */
export const readLogLine = (text: string): LogLine => {
  let fields: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      fields = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: judged as a warning nobody owns.
  }
  const requestId = fieldText(fields, 'requestId') ?? fieldText(fields, 'correlationId');
  return {
    level: fieldText(fields, 'level') ?? 'warn',
    background: 'processor' in fields || 'component' in fields,
    ...(requestId === undefined ? {} : { requestId }),
    text,
  };
};

const shown = (lines: readonly LogLine[]): string =>
  lines
    .slice(0, 2)
    .map((line) => line.text)
    .join(' | ')
    .slice(0, 600);

/**
 * The rules broken by the warn- and error-level `lines` written while the refused request
 * `requestId` was in flight (see the module comment).
 */
export const refusalLogViolations = (lines: readonly string[], requestId: string): Violation[] => {
  const read = lines.map(readLogLine);
  const errors = read.filter((line) => line.level === 'error' || line.level === 'fatal');
  const warnings = read.filter(
    (line) => line.level === 'warn' && (!line.background || line.requestId === requestId),
  );
  return [
    ...(errors.length === 0
      ? []
      : [{ rule: 'error log for a client mistake', detail: shown(errors) }]),
    ...(warnings.length === 0
      ? []
      : [{ rule: 'warn log for a client mistake', detail: shown(warnings) }]),
  ];
};

/**
 * Lines written between requests that name a request refused earlier: its log lines came after
 * its answer, and count as if they had come during it.
 */
export const lateLogViolations = (
  lines: readonly string[],
  refused: (requestId: string) => boolean,
): Violation[] =>
  lines
    .map(readLogLine)
    .filter(
      (line) =>
        line.requestId !== undefined &&
        refused(line.requestId) &&
        (line.level === 'warn' || line.level === 'error' || line.level === 'fatal'),
    )
    .map((line) => ({
      rule: `${line.level === 'warn' ? 'warn' : 'error'} log for a client mistake`,
      detail: `request ${line.requestId ?? ''}, written after its answer: ${line.text.slice(0, 500)}`,
    }));
