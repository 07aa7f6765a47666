import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import {
  printed,
  usageOf,
  type Command,
  type CommandGroup,
  type Options,
  type Output,
  type Terminal,
  type Values,
} from './command.js';
import { connectionOf } from './connection.js';
import { describeFailure, exitCodeOf, usageFailure, type Failure } from './failure.js';
import { commandHelp, fullHelp, groupHelp, groupUsage, TOP_USAGE } from './help.js';

/**
 * From what the operator typed to an exit code: the group and command named, the flags parsed
 * with node:util's parseArgs (strictly, against the command's own and the global ones), help,
 * and the command's output on stdout or its failure on stderr (docs/cli.md).
 */

/** The flags every command takes. */
const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};

/** What `tidings` needs from outside: its groups, its version, the environment and a terminal. */
export interface Surroundings {
  readonly groups: readonly CommandGroup[];
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
  readonly terminal: Terminal;
}

/** The message of a parseArgs refusal, shortened where node's is long. */
const parseMessage = (error: unknown, usage: string): Failure => {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const flag = /'(-[^']*)'/.exec(message)?.[1];
  return usageFailure(
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined
      ? `unknown flag ${flag}`
      : message,
    usage,
  );
};

/** The flags of `command` (with the global ones), strictly: an unknown one is a usage failure. */
const parseFlags = (
  argv: readonly string[],
  options: Options,
  usage: string,
): E.Either<Failure, { readonly values: Values; readonly positionals: readonly string[] }> =>
  E.tryCatch(
    () =>
      parseArgs({
        args: [...argv],
        options: { ...GLOBAL_OPTIONS, ...options },
        strict: true,
        allowPositionals: true,
      }),
    (error) => parseMessage(error, usage),
  );

/** The command's arguments, as many as it names, none empty or a `.`/`..` URLs would resolve. */
const argumentsOf = (
  command: Command,
  given: readonly string[],
  usage: string,
): E.Either<Failure, readonly string[]> => {
  const missing = command.args[given.length];
  if (missing !== undefined) return E.left(usageFailure(`missing <${missing}>`, usage));
  const extra = given[command.args.length];
  if (extra !== undefined) return E.left(usageFailure(`unexpected argument "${extra}"`, usage));
  const bad = given.find((arg) => arg === '' || arg === '.' || arg === '..');
  return bad === undefined ? E.right(given) : E.left(usageFailure(`"${bad}" is not an id`, usage));
};

/** Runs one command as the flags and arguments say. */
const runCommand = (
  argv: readonly string[],
  group: CommandGroup,
  command: Command,
  surroundings: Surroundings,
): TE.TaskEither<Failure, Output> => {
  const usage = usageOf(group, command);
  return pipe(
    TE.fromEither(parseFlags(argv, command.options, usage)),
    TE.flatMap(({ values, positionals }) =>
      values['help'] === true
        ? TE.right(printed(commandHelp(group, command)))
        : pipe(
            E.Do,
            E.apS('args', argumentsOf(command, positionals.slice(2), usage)),
            E.apS('connection', connectionOf(values, surroundings.env, usage)),
            TE.fromEither,
            TE.flatMap(({ args, connection }) =>
              command.run({
                values,
                args,
                connection,
                json: values['json'] === true,
                terminal: surroundings.terminal,
                usage,
              }),
            ),
          ),
    ),
  );
};

/** Every flag any command takes, so that a first reading finds the group and command names. */
const everyOption = (groups: readonly CommandGroup[]): Options =>
  Object.assign(
    {},
    GLOBAL_OPTIONS,
    ...groups.flatMap((group) => group.commands.map((command) => command.options)),
  ) as Options;

/** `tidings help [group [command]]`. */
const help = (
  names: readonly string[],
  groups: readonly CommandGroup[],
): E.Either<Failure, Output> => {
  const [groupName, commandName] = names;
  if (groupName === undefined) return E.right(printed(fullHelp(groups)));
  const group = groups.find((candidate) => candidate.name === groupName);
  if (group === undefined) {
    return E.left(usageFailure(`no help for "${groupName}": it is no group`, TOP_USAGE));
  }
  if (commandName === undefined) return E.right(printed(groupHelp(group)));
  const command = group.commands.find((candidate) => candidate.name === commandName);
  return command === undefined
    ? E.left(usageFailure(`"${commandName}" is no command of ${group.name}`, groupUsage(group)))
    : E.right(printed(commandHelp(group, command)));
};

/** Finds the command the arguments name, and runs it (or prints the help they ask for). */
const dispatch = (
  argv: readonly string[],
  surroundings: Surroundings,
): TE.TaskEither<Failure, Output> => {
  const { groups } = surroundings;
  // A first, lenient reading: the values of known flags are not taken for names.
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: everyOption(groups),
    strict: false,
    allowPositionals: true,
  });
  const [groupName, commandName] = positionals;
  const helpAsked = values['help'] === true;
  if (values['version'] === true) return TE.right(printed(`tidings ${surroundings.version}\n`));
  if (groupName === 'help') return TE.fromEither(help(positionals.slice(1), groups));
  if (groupName === undefined) {
    return helpAsked
      ? TE.right(printed(fullHelp(groups)))
      : TE.left(usageFailure('name a group and a command', TOP_USAGE));
  }
  const group = groups.find((candidate) => candidate.name === groupName);
  if (group === undefined) {
    return TE.left(
      usageFailure(
        `unknown group "${groupName}" (${groups.map(({ name }) => name).join(', ')})`,
        TOP_USAGE,
      ),
    );
  }
  if (commandName === undefined) {
    return helpAsked
      ? TE.right(printed(groupHelp(group)))
      : TE.left(usageFailure(`name a command of ${group.name}`, groupUsage(group)));
  }
  const command = group.commands.find((candidate) => candidate.name === commandName);
  if (command === undefined) {
    return TE.left(
      usageFailure(`unknown command "${group.name} ${commandName}"`, groupUsage(group)),
    );
  }
  return runCommand(argv, group, command, surroundings);
};

/** Runs `tidings` with the given arguments; resolves to the exit code. */
export const runCli = async (
  argv: readonly string[],
  surroundings: Surroundings,
): Promise<number> => {
  const outcome = await dispatch(argv, surroundings)();
  const { out, err } = surroundings.terminal;
  if (E.isLeft(outcome)) {
    err.write(describeFailure(outcome.left));
    return exitCodeOf(outcome.left);
  }
  out.write(outcome.right.text);
  return outcome.right.exitCode;
};
