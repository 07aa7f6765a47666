import type { ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Connection } from './connection.js';
import { usageFailure, type Failure } from './failure.js';

/**
 * What a `tidings` command is: its name, usage and flags, and a `run` that turns what the
 * operator typed into what to print, or a {@link Failure}. Each command group (`apps`, `held`,
 * `complaints`, `audit`) is a module exporting one {@link CommandGroup}.
 */

/** The flags of a command, in node:util's parseArgs terms. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** The flag values parseArgs gives. */
export type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** Where output goes; the entry point passes process.stdout and process.stderr. */
export interface Terminal {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}

/** One run of a command: its flags, its arguments (after group and name) and its surroundings. */
export interface Invocation {
  readonly values: Values;
  readonly args: readonly string[];
  readonly connection: Connection;
  /** `--json`: print the server's answer rather than a table or `key: value` lines. */
  readonly json: boolean;
  readonly terminal: Terminal;
  /** The command's usage line, for usage failures found while running. */
  readonly usage: string;
}

/** What a command printed (`text`, for stdout) and how it ends: 1 when it found a fault. */
export interface Output {
  readonly text: string;
  readonly exitCode: 0 | 1;
}

/** Output that ends well. */
export const printed = (text: string): Output => ({ text, exitCode: 0 });

export interface Command {
  readonly name: string;
  /** One line for help. */
  readonly summary: string;
  /** Arguments and flags after `tidings <group> <name>`: `<appId> [--note <text>]`. */
  readonly synopsis: string;
  /** The command's own flags (the global ones, `--url`, `--data-dir`, `--json`, come on top). */
  readonly options: Options;
  /** The names of its arguments, all required: `['appId']`. */
  readonly args: readonly string[];
  readonly run: (invocation: Invocation) => TE.TaskEither<Failure, Output>;
}

export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

/** The usage line of a command. */
export const usageOf = (group: CommandGroup, command: Command): string =>
  `tidings ${group.name} ${command.name}${command.synopsis === '' ? '' : ` ${command.synopsis}`}`;

/** A flag's text, if given. */
export const text = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

/** Every text given for a flag that may be repeated. */
export const texts = (values: Values, name: string): string[] => {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
};

/** A flag's text when it is one of `choices`, or a usage failure naming them. */
export const choice = <C extends string>(
  invocation: Invocation,
  name: string,
  choices: readonly C[],
): E.Either<Failure, C | undefined> => {
  const value = text(invocation.values, name);
  if (value === undefined) return E.right(undefined);
  return (choices as readonly string[]).includes(value)
    ? E.right(value as C)
    : E.left(
        usageFailure(
          `--${name} must be one of ${choices.join(', ')}, not "${value}"`,
          invocation.usage,
        ),
      );
};

/** A flag that is a whole number of at least 1, or a usage failure. */
export const count = (
  invocation: Invocation,
  name: string,
): E.Either<Failure, number | undefined> => {
  const value = text(invocation.values, name);
  if (value === undefined) return E.right(undefined);
  return /^[1-9][0-9]{0,8}$/.test(value)
    ? E.right(Number(value))
    : E.left(
        usageFailure(`--${name} must be a whole number from 1, not "${value}"`, invocation.usage),
      );
};

/** A flag that must be given, or a usage failure saying it is missing. */
export const required = (invocation: Invocation, name: string): E.Either<Failure, string> => {
  const value = text(invocation.values, name);
  return value === undefined || value === ''
    ? E.left(usageFailure(`missing --${name}`, invocation.usage))
    : E.right(value);
};

/** The command's one argument (its arguments were counted before it ran). */
export const argument = (invocation: Invocation): string => invocation.args[0] ?? '';

/**
 * A path segment for an id the operator typed, so `a/b` or `?` stays in it (the dispatcher
 * refuses `.` and `..`, which URLs resolve away however they are escaped).
 */
export const segment = (id: string): string => encodeURIComponent(id);
