import { usageOf, type Command, type CommandGroup } from './command.js';
import { serverDefaults } from './connection.js';

/** The help `tidings` prints: all of it, one group's, or one command's (docs/cli.md has more). */

/** The first line of every usage failure that names no group yet. */
export const TOP_USAGE = 'tidings <group> <command> [arguments] [flags]   (tidings help for more)';

const defaults = serverDefaults();
const GLOBAL_FLAGS = `global flags:
  --url <server>       the server: TIDINGS_URL, else ${defaults.url}
  --data-dir <folder>  the server's data folder, where generated tokens are read from:
                       TIDINGS_DATA_DIR, else ${defaults.dataDir}
  --json               print the server's JSON answer instead of a table or key: value lines
  -h, --help           help; tidings <group> --help, tidings <group> <command> --help
  --version            the version of tidings

tokens: TIDINGS_ADMIN_TOKEN, else <data dir>/admin-token (operator commands);
        TIDINGS_AUDIT_TOKEN, else <data dir>/audit-token (audit commands)
exit codes: 0 done, 1 refused by the server, unreachable, no token or a failed check,
            2 a command line that cannot be used
`;

const commandLines = (group: CommandGroup, command: Command): string =>
  `  ${usageOf(group, command)}\n      ${command.summary}\n`;

/** One group's commands, each with its usage and what it does. */
export const groupHelp = (group: CommandGroup): string =>
  `tidings ${group.name}: ${group.summary}\n\n${group.commands
    .map((command) => commandLines(group, command))
    .join('')}\n${GLOBAL_FLAGS}`;

/** One command's usage and what it does. */
export const commandHelp = (group: CommandGroup, command: Command): string =>
  `usage: ${usageOf(group, command)}\n\n${command.summary}\n\n${GLOBAL_FLAGS}`;

/** Everything: every group and command, the global flags, tokens and exit codes. */
export const fullHelp = (groups: readonly CommandGroup[]): string =>
  `tidings: the operator's and auditor's command line for a running Tidings server

usage: ${TOP_USAGE}

${groups
  .map(
    (group) =>
      `${group.name}: ${group.summary}\n${group.commands
        .map((command) => commandLines(group, command))
        .join('')}`,
  )
  .join('\n')}
${GLOBAL_FLAGS}`;

/** The usage lines of a group, for a usage failure that named the group but no command of it. */
export const groupUsage = (group: CommandGroup): string =>
  group.commands.map((command) => usageOf(group, command)).join('\n       ');
