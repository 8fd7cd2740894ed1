import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundledMain } from './bundled-main.js';

// Build-time only (scripts/bundle-fleetctl.ts bundles it beside the bundle, runs it once and
// deletes it): `node train-code-cache.js <cache file> <fleetctl arguments...>` runs one fleetctl
// command through the bundle's loader, then saves V8's code cache of the main file. Saved after the
// run, the cache holds every function that command compiled, not only the top-level code.
declare const FLEETCTL_MAIN_CHUNK: string;

const [cacheFile = '', ...argv] = process.argv.slice(2);
const loaded = loadBundledMain(join(import.meta.dirname, `${FLEETCTL_MAIN_CHUNK}.js`), join(import.meta.dirname, 'no-cache-while-training'));
// No top-level await: this runs as CommonJS.
void loaded.exports.main(argv).then(() => writeFileSync(cacheFile, loaded.script.createCachedData()));
