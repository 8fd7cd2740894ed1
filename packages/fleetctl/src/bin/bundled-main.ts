import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Script } from 'node:vm';

/** What the bundled command line (bin/main.ts as one CommonJS file) exports. */
export interface BundledMain {
  main(argv: readonly string[]): Promise<void>;
}

/** The bundled command line, evaluated, and its compiled script (whose code cache a build may save). */
export interface LoadedMain {
  readonly exports: BundledMain;
  readonly script: Script;
}

/**
 * Loads the CommonJS file `file` the way Node's own loader would (same wrapper, `require` relative
 * to it), but compiled through vm.Script with V8's code cache read from `cacheFile`: Node 20 keeps
 * no compile cache of its own, and parsing and compiling the bundle's functions is a large part of
 * fleetctl's start-up. A missing cache file, or one V8 rejects (another Node, other V8 flags), only
 * costs the plain compile. The cache must have been made from this very file (see
 * scripts/bundle-fleetctl.ts, which names both after the file's content hash): V8 checks only the
 * source's length.
 */
export function loadBundledMain(file: string, cacheFile: string): LoadedMain {
  const source = readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined; // not built with a cache: compile as Node would
  }
  // node:vm and node:module are not loaded at Node's start: fetched here, `fleetctl version` (whose
  // bin imports this file) does without them.
  const { Script: VmScript } = process.getBuiltinModule('node:vm');
  const { createRequire } = process.getBuiltinModule('node:module');
  const script = new VmScript(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, cachedData === undefined ? { filename: file } : { filename: file, cachedData });
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports as BundledMain, script };
}
