import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository (the folder with `package.json` and `packages/`). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * The built fleetctl entry point (run it with `process.execPath`): the one-file bundle that
 * `npm run build` and bootstrap make (`scripts/bundle-fleetctl.ts`; it starts in about a third of
 * the time), else tsc's output when only `tsc -b` ran.
 */
export const fleetctlBin: string = builtFleetctl();

function builtFleetctl(): string {
  const bundle = join(repoRoot, 'packages/fleetctl/dist/bundle/fleetctl.js');
  return existsSync(bundle) ? bundle : join(repoRoot, 'packages/fleetctl/dist/bin/fleetctl.js');
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
