/**
 * A restore that ends as a power cut or `kill -9` would end it: with SIGKILL, just before its
 * n-th call of an fs function that changes the data folder (a copy is cut off halfway first).
 * Run by test/composition/restoreKilled.test.ts as
 * `node --import tsx test/support/restoreUntilKilled.ts <backup> <data folder> <n>`; if the
 * restore makes fewer calls it runs to its end and prints its outcome's code.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { restoreDataFolder } from '../../composition/restore.js';
import { interceptFsCalls } from './fsCalls.js';

const [file = '', dataDir = '', at = ''] = process.argv.slice(2);
const killAt = Number(at);
let calls = 0;
interceptFsCalls(['copyFileSync', 'renameSync', 'rmSync', 'writeFileSync'], (name, args) => {
  calls += 1;
  if (calls !== killAt) return;
  if (name === 'copyFileSync') {
    const [from, to] = args as [string, string];
    const content = readFileSync(from);
    const fd = openSync(to, 'wx', 0o600);
    writeSync(fd, content, 0, Math.floor(content.length / 2));
    closeSync(fd);
  }
  process.kill(process.pid, 'SIGKILL');
});
const result = restoreDataFolder({ settings: { dataDir }, file });
process.stdout.write(`${E.isLeft(result) ? result.left.code : 'restored'} after ${calls} calls\n`);
