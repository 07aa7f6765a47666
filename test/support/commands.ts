import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingNames } from '../../adapters/config/settings.js';

/** The repository's root, where `npm run …` finds package.json. */
export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** This process's environment without any Tidings setting, plus the given ones. */
export const commandEnvironment = (
  settings: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of settingNames) Reflect.deleteProperty(env, name);
  return { ...env, ...settings };
};

/** How a command ended, with everything it wrote. */
export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command in the repository with the given Tidings settings, to its end. */
export const runCommand = (
  command: string,
  args: readonly string[],
  settings: Readonly<Record<string, string>> = {},
): Promise<CommandRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: projectRoot,
      env: commandEnvironment(settings),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });

/** `npm run --silent <script> -- <args>`: the command as an operator types it. */
export const runNpmScript = (
  script: string,
  args: readonly string[],
  settings: Readonly<Record<string, string>> = {},
): Promise<CommandRun> => runCommand('npm', ['run', '--silent', script, '--', ...args], settings);

/** `node --import tsx <file> <args>`: an operator command without npm's start-up time. */
export const runTsx = (
  file: string,
  args: readonly string[],
  settings: Readonly<Record<string, string>> = {},
): Promise<CommandRun> =>
  runCommand(process.execPath, ['--import', 'tsx', file, ...args], settings);

/** The non-empty lines of a command's output. */
export const linesOf = (text: string): string[] =>
  text.split('\n').filter((line) => line.length > 0);
