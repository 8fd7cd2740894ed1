/**
 * Bundles the built fleetctl (`packages/fleetctl/dist/bin/fleetctl.js`, from `tsc -b`) and what it
 * imports (@fleet/core, yargs and its dependencies) into ES modules: the entry,
 * `packages/fleetctl/dist/bundle/fleetctl.js`, which the `fleetctl` bin points at, and the lazily
 * imported command line as a chunk beside it (where yargs' locales are found, see below).
 *
 *   node scripts/dist/bundle-fleetctl.js   (bootstrap runs it after tsc -b)
 *
 * Why: Node resolves, reads and compiles each of the ~80 modules of an unbundled fleetctl at every
 * start (no compile cache on Node 20), which is most of a short command's time; one file is read
 * once and its functions are compiled only when called. The output is the same program: the
 * compat tests run this bin.
 *
 * yargs reads its messages from `locales/<lang>.json` next to its own sources (y18n). Its platform
 * shim is rewritten here to look in `locales/` beside the bundle, and those files are copied there.
 */
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { repoRoot } from './local-cluster/paths.js';

const entry = join(repoRoot, 'packages/fleetctl/dist/bin/fleetctl.js');
const outDir = join(repoRoot, 'packages/fleetctl/dist/bundle');
// yargs as fleetctl resolves it (its package.json is exported).
const yargsDir = dirname(createRequire(join(repoRoot, 'packages/fleetctl/package.json')).resolve('yargs/package.json'));

const localesBesideBundle: Plugin = {
  name: 'yargs-locales-beside-bundle',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const from = "resolve(__dirname, '../../../locales')";
      // The shim's `__dirname` is its file's path; in the bundle that is the bundle's.
      if (!source.includes(from)) throw new Error(`${args.path} no longer says ${from}: update scripts/bundle-fleetctl.ts`);
      return { contents: source.replace(from, "resolve(__dirname, '../locales')"), loader: 'js' };
    });
  },
};

// Chunk names carry a content hash: start empty so no chunk of an earlier build stays behind.
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [entry],
  outdir: outDir,
  bundle: true,
  // The command line (bin/main.js, imported only when a command needs it) becomes a chunk of its
  // own, so `fleetctl version`'s fast path reads a few hundred bytes instead of the whole program.
  splitting: true,
  chunkNames: '[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Some of yargs' CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __fleetctlRequire } from 'node:module';\nconst require = __fleetctlRequire(import.meta.url);" },
  plugins: [localesBesideBundle],
  logLevel: 'warning',
});
cpSync(join(yargsDir, 'locales'), join(outDir, 'locales'), { recursive: true });
