import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository (the folder with `package.json` and `packages/`). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * The built fleetctl entry point (run it with `process.execPath`): the bundle that `npm run build`
 * and bootstrap make (`scripts/bundle-fleetctl.ts`; it starts in well under half the time), else
 * tsc's output when only `tsc -b` ran. A bundle older than one of the files it was made from (tsc
 * -b ran after it) is not used: tsc's output is, with a warning on stderr, so nothing runs stale code.
 */
export const fleetctlBin: string = builtFleetctl();

function builtFleetctl(): string {
  const bundleDir = join(repoRoot, 'packages/fleetctl/dist/bundle');
  const unbundled = join(repoRoot, 'packages/fleetctl/dist/bin/fleetctl.js');
  if (!existsSync(join(bundleDir, 'fleetctl.js'))) return unbundled;
  const stale = staleBundleInput(repoRoot, bundleDir);
  if (stale === undefined) return join(bundleDir, 'fleetctl.js');
  process.stderr.write(`warning: fleetctl's bundle is older than ${stale}; running ${relative(repoRoot, unbundled)} instead (npm run build remakes the bundle)\n`);
  return unbundled;
}

/**
 * A file the bundle in `bundleDir` was made from (its `inputs.json`, paths relative to `root`)
 * that is newer than the bundle or gone, or `undefined` when the bundle is current.
 */
export function staleBundleInput(root: string, bundleDir: string): string | undefined {
  const list = join(bundleDir, 'inputs.json');
  let inputs: unknown;
  let made: number;
  try {
    inputs = JSON.parse(readFileSync(list, 'utf8'));
    made = statSync(list).mtimeMs;
  } catch {
    return `its list of inputs (${relative(root, list)} is missing)`;
  }
  if (!Array.isArray(inputs)) return `its list of inputs (${relative(root, list)} is not a list)`;
  return inputs.map(String).find((input) => {
    try {
      return statSync(join(root, input)).mtimeMs > made;
    } catch {
      return true;
    }
  });
}

/** Arguments of `node` that run fleetctl against a machine's fleetd: the bin and `--endpoint unix://<apiSocket>`. */
export function fleetctlArgs(machine: { readonly apiSocket: string }): string[] {
  return [fleetctlBin, '--endpoint', `unix://${machine.apiSocket}`];
}

/** Time elapsed since `since` (a `Date.now()` value) for progress lines, e.g. `0.8 s`. */
export function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** `./x/y` below the current directory, the absolute path elsewhere. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : `./${rel}`;
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'packages'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the repository root above ${from}`);
  }
}
