#!/usr/bin/env node
import { join } from 'node:path';
import { versionLine } from '../commands/version.js';
import { loadBundledMain } from './bundled-main.js';
import { isBareVersion } from './version-fast-path.js';

// The installed bin: scripts/bundle-fleetctl.ts bundles this file as CommonJS (a CommonJS entry
// starts about 10 ms sooner than an ES module) into dist/bundle/fleetctl.js, and bin/main.ts as
// one CommonJS file beside it, with its V8 code cache. It runs only as that bundle: esbuild puts
// the main file's name in FLEETCTL_MAIN_CHUNK and the bundle's directory in import.meta.dirname.
declare const FLEETCTL_MAIN_CHUNK: string;

const argv = process.argv.slice(2);
if (isBareVersion(argv, process.env)) process.stdout.write(`${versionLine}\n`);
else {
  const dir = import.meta.dirname;
  // A rejection (a bug: run() answers every failure with an exit code) ends the process with its stack, as in the unbundled bin.
  void loadBundledMain(join(dir, `${FLEETCTL_MAIN_CHUNK}.js`), join(dir, `${FLEETCTL_MAIN_CHUNK}.cache`)).exports.main(argv);
}
