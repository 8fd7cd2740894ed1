#!/usr/bin/env node
import { versionLine } from '../commands/version.js';
import { isBareVersion } from './version-fast-path.js';

// The unbundled bin (tsc's output; the installed one is the bundle, see bundle-entry.ts). Start-up
// time is most of what a short fleetctl command costs, so this file imports nothing else up front:
// `fleetctl version` prints its line without loading yargs or the API client.
const argv = process.argv.slice(2);
if (isBareVersion(argv, process.env)) process.stdout.write(`${versionLine}\n`);
else await (await import('./main.js')).main(argv);
