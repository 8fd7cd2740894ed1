#!/usr/bin/env node
import { versionLine } from '../commands/version.js';

// Start-up time is most of what a short fleetctl command costs, so this file imports nothing else
// up front. `fleetctl version` (and `--version`/`-v` first) prints its line without loading yargs
// or the API client, when no FLEETCTL_* variable is set: those are parsed, and refused when
// invalid, by the full command line, which the slow path keeps doing.
const argv = process.argv.slice(2);
if (isBareVersion(argv, process.env)) process.stdout.write(`${versionLine}\n`);
else await (await import('./main.js')).main(argv);

function isBareVersion(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const first = args[0];
  const asked = first === '--version' || first === '-v' || (first === 'version' && args.length === 1);
  return asked && !Object.keys(env).some((name) => name.startsWith('FLEETCTL_'));
}
