/**
 * `tidings`: the operator's and auditor's command line for a running Tidings server, over its
 * HTTP API (docs/cli.md). `npx tidings …` from the package (bin/tidings.mjs), or
 * `npm run tidings -- …`.
 */
import packageJson from '../package.json' with { type: 'json' };
import { apps } from './cli/apps.js';
import { audit } from './cli/audit.js';
import { complaints } from './cli/complaints.js';
import { held } from './cli/held.js';
import { runCli } from './cli/run.js';

process.exitCode = await runCli(process.argv.slice(2), {
  groups: [apps, held, complaints, audit],
  version: packageJson.version,
  env: process.env,
  terminal: { out: process.stdout, err: process.stderr },
});
