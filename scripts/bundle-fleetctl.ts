/**
 * Bundles the built fleetctl (tsc's output in `packages/fleetctl/dist/bin/`) and what it imports
 * (@fleet/core, yargs and its dependencies) into `packages/fleetctl/dist/bundle/`:
 *
 * - `fleetctl.js`, the bin (bin/bundle-entry.ts): answers `fleetctl version` by itself, and for any
 *   other command loads
 * - `main-<hash>.js`, the command line (bin/main.ts) as one CommonJS file, compiled with
 * - `main-<hash>.cache`, V8's code cache of that file, made here by running one `list-units`
 *   against a stub API (see bin/train-code-cache.ts), so the functions a command uses arrive
 *   compiled; V8 ignores it under another Node.
 * - `inputs.json`, the files the bundle was made from, so a run of a stale bundle fails (paths.ts).
 *
 *   node scripts/dist/bundle-fleetctl.js   (npm run build and bootstrap run it after tsc -b)
 *
 * Why: on Node 20 (no compile cache of its own) resolving, reading, parsing and compiling the ~80
 * modules of an unbundled fleetctl is most of a short command's time. CommonJS rather than ES
 * modules: a CommonJS entry starts sooner, and vm.Script, which takes a code cache, runs CommonJS.
 * The output is the same program: the compat tests run this bin.
 *
 * yargs reads its messages from `locales/<lang>.json` next to its own sources (y18n). Its platform
 * shim is rewritten here to look in `locales/` beside the bundle, and those files are copied there.
 * Two more edits defer start-up work that a command seldom needs (node:assert, string-width).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';

// Not paths.ts's repoRoot: importing paths.ts checks the very bundle this remakes.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const binDir = join(repoRoot, 'packages/fleetctl/dist/bin');
const outDir = join(repoRoot, 'packages/fleetctl/dist/bundle');
// yargs as fleetctl resolves it (its package.json is exported).
const yargsDir = dirname(createRequire(join(repoRoot, 'packages/fleetctl/package.json')).resolve('yargs/package.json'));

const yargsShim: Plugin = {
  name: 'yargs-shim',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const edits = [
        // The shim's `__dirname` is its file's path; in the bundle that is the bundle's.
        ["resolve(__dirname, '../../../locales')", "resolve(__dirname, '../locales')"],
        // yargs reads its program's package.json (a version, `yargs` settings) from here upwards; in
        // node_modules it finds fleetctl's, in the bundle (no node_modules in the path) it searched
        // from the working directory, to / when none is found, once per parser. The bundle's own
        // package.json is beside it.
        ["const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));", 'const mainFilename = __dirname;'],
        // node:assert (a few ms to load) only when one of yargs' own checks fails (it checks on every
        // parser); assert compares with Object.is.
        [
          "import { notStrictEqual, strictEqual } from 'assert'",
          [
            "function notStrictEqual(a, b, ...m) { if (Object.is(a, b)) process.getBuiltinModule('node:assert').notStrictEqual(a, b, ...m); }",
            "function strictEqual(a, b, ...m) { if (!Object.is(a, b)) process.getBuiltinModule('node:assert').strictEqual(a, b, ...m); }",
          ].join('\n'),
        ],
      ] as const;
      let contents = readFileSync(args.path, 'utf8');
      for (const [from, to] of edits) {
        if (!contents.includes(from)) throw new Error(`${args.path} no longer says ${from}: update scripts/bundle-fleetctl.ts`);
        contents = contents.replace(from, to);
      }
      return { contents, loader: 'js' };
    });
  },
};

// string-width builds ICU segmenters and Unicode-property regular expressions (the emoji set
// alone takes ~10 ms) when its module is evaluated, and yargs and cliui import it up front, though
// only help and error text is ever measured. Each `import stringWidth from 'string-width'` gets a
// stand-in that requires the real module on its first call: esbuild evaluates a required ES
// module only then.
const lazyStringWidth: Plugin = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      // Relative: the path names the stand-in in the bundle, which is the same from any checkout.
      return { path: relative(repoRoot, real.path), namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      contents: `let real;\nexport default function stringWidth(string, options) {\n  real ??= require(${JSON.stringify(join(repoRoot, args.path))}).default;\n  return real(string, options);\n}\n`,
      loader: 'js',
      resolveDir: dirname(join(repoRoot, args.path)),
    }));
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.dirname': '__dirname' },
  // import('node:https') as require(): vm.Script (bundled-main.ts) has no loader for import().
  supported: { 'dynamic-import': false },
  metafile: true,
  logLevel: 'warning',
};

// Names carry the main file's content hash: start empty so nothing of an earlier build stays behind.
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const mainBuild = await build({
  ...common,
  entryPoints: [join(binDir, 'main.js')],
  write: false,
  outfile: join(outDir, 'main.js'),
  // ES modules' import.meta.url in CommonJS (yargs and yargs-parser take their paths from it).
  // "use strict" first: the ES modules it comes from are strict, and a banner would end the prologue.
  banner: { js: `"use strict";\nvar __fleetctlImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  define: { ...common.define, 'import.meta.url': '__fleetctlImportMetaUrl' },
  plugins: [yargsShim, lazyStringWidth],
});
const mainText = mainBuild.outputFiles[0]?.text ?? '';
const mainName = `main-${createHash('sha256').update(mainText).digest('hex').slice(0, 12)}`;
writeFileSync(join(outDir, `${mainName}.js`), mainText);
cpSync(join(yargsDir, 'locales'), join(outDir, 'locales'), { recursive: true });
writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
const withMainName = { ...common, define: { ...common.define, FLEETCTL_MAIN_CHUNK: JSON.stringify(mainName) } };
const entryBuild = await build({ ...withMainName, entryPoints: [join(binDir, 'bundle-entry.js')], outfile: join(outDir, 'fleetctl.js') });
chmodSync(join(outDir, 'fleetctl.js'), 0o755);
await trainCodeCache(join(outDir, `${mainName}.cache`));
writeFileSync(join(outDir, 'inputs.json'), `${JSON.stringify(inputsOf(mainBuild.metafile, entryBuild.metafile), null, 1)}\n`);

/** Runs bin/train-code-cache.ts once (`list-units` against a stub API that knows no units) to write `cacheFile`. */
async function trainCodeCache(cacheFile: string): Promise<void> {
  const trainer = join(outDir, 'train-code-cache.js');
  await build({ ...withMainName, entryPoints: [join(binDir, 'train-code-cache.js')], outfile: trainer, metafile: false });
  const dir = mkdtempSync(join(tmpdir(), 'fleetctl-train-'));
  const socket = join(dir, 'api.sock');
  const stub = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  try {
    await new Promise<void>((resolve) => stub.listen(socket, resolve));
    const { stdout } = await promisify(execFile)(process.execPath, [trainer, cacheFile, '--endpoint', `unix://${socket}`, 'list-units'], { env: { PATH: process.env['PATH'] ?? '' } });
    if (!stdout.startsWith('UNIT')) throw new Error(`training fleetctl's code cache: list-units printed ${JSON.stringify(stdout)}`);
  } finally {
    stub.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(trainer, { force: true });
  }
}

/** The files of the repository (not node_modules) the bundle was made from, relative to it. */
function inputsOf(...metafiles: (Metafile | undefined)[]): string[] {
  const inputs = new Set<string>();
  for (const m of metafiles) for (const input of Object.keys(m?.inputs ?? {})) if (!input.includes('node_modules/')) inputs.add(relative(repoRoot, join(process.cwd(), input)));
  return [...inputs].sort();
}
