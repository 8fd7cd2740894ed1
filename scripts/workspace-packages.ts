import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { repoRoot } from './local-cluster/paths.js';

/** A workspace package: its directory, npm name, declared dependencies and exports map entries. */
export interface WorkspacePackage {
  /** Directory name under `packages/` (`core`, `etcd`, ...). */
  readonly dir: string;
  readonly name: string;
  readonly dependencies: ReadonlySet<string>;
  readonly devDependencies: ReadonlySet<string>;
  /** Specifier (`@fleet/core/model`) to the repository-relative source file its `source` condition names. */
  readonly entries: ReadonlyMap<string, string>;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  exports?: Record<string, { source?: string }>;
}

/**
 * Every package under `packages/`, read from its package.json. The test runner aliases each entry
 * to its source (tests never run a stale `dist/`); the architecture test checks imports against it.
 */
export function workspacePackages(): WorkspacePackage[] {
  const dir = join(repoRoot, 'packages');
  return readdirSync(dir).map((name) => {
    const manifest = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as Manifest;
    const entries = new Map<string, string>();
    for (const [entry, targets] of Object.entries(manifest.exports ?? {})) {
      if (targets.source === undefined) continue;
      const specifier = entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`;
      entries.set(specifier, normalize(join('packages', name, targets.source)));
    }
    return {
      dir: name,
      name: manifest.name,
      dependencies: new Set(Object.keys(manifest.dependencies ?? {})),
      devDependencies: new Set(Object.keys(manifest.devDependencies ?? {})),
      entries,
    };
  });
}
