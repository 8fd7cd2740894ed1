import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { repoRoot } from '../../scripts/local-cluster/paths.js';
import { workspacePackages } from '../../scripts/workspace-packages.js';

/** One `import`/`export ... from` (static or dynamic) of a source file. */
export interface SourceImport {
  readonly specifier: string;
  /** `import type` / `export type`: erased at run time. */
  readonly typeOnly: boolean;
  /** The imported file (repository-relative), for relative specifiers and our own packages' entries. */
  readonly target: string | undefined;
}

/** A TypeScript file of the repository with its imports. */
export interface SourceFile {
  /** Repository-relative path. */
  readonly path: string;
  readonly lines: number;
  readonly imports: readonly SourceImport[];
  /** The package directory name (`core`, `etcd`, ...) for files under `packages/`. */
  readonly packageName: string | undefined;
  readonly isTest: boolean;
  readonly text: string;
}

const importPattern = /^\s*(import|export)(\s+type)?\b[^'";]*?\bfrom\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|^\s*import\s*'([^']+)'/gm;

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(join(repoRoot, dir))) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(join(repoRoot, path)).isDirectory()) walk(path, out);
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
}

/** Every TypeScript source of the packages, the scripts and the tests, with its imports resolved. */
export function sourceFiles(): SourceFile[] {
  const packages = workspacePackages();
  const entryFiles = new Map(packages.flatMap((p) => [...p.entries]));
  const paths: string[] = [];
  for (const dir of ['packages', 'scripts', 'test']) walk(dir, paths);
  return paths.sort().map((path) => {
    const text = readFileSync(join(repoRoot, path), 'utf8');
    const imports: SourceImport[] = [];
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[3] ?? match[4] ?? match[5];
      if (specifier === undefined) continue;
      let target: string | undefined;
      if (specifier.startsWith('.')) target = normalize(join(dirname(path), specifier.replace(/\.js$/, '.ts')));
      else target = entryFiles.get(specifier);
      imports.push({ specifier, typeOnly: match[2] !== undefined, target });
    }
    const packageName = path.startsWith('packages/') ? path.split('/')[1] : undefined;
    return { path, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0), imports, packageName, isTest: /\.test\.ts$|\/testing\//.test(path), text };
  });
}

/** The npm package a bare specifier names (`@fleet/core/model` -> `@fleet/core`, `node:fs` -> `node:fs`). */
export function packageOfSpecifier(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Cycles among the given files, following run-time imports (type-only ones are erased). */
export function importCycles(files: readonly SourceFile[]): string[][] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (path: string): void => {
    state.set(path, 'open');
    stack.push(path);
    for (const imp of byPath.get(path)?.imports ?? []) {
      if (imp.typeOnly || imp.target === undefined || !byPath.has(imp.target)) continue;
      const seen = state.get(imp.target);
      if (seen === 'open') cycles.push([...stack.slice(stack.indexOf(imp.target)), imp.target]);
      else if (seen === undefined) visit(imp.target);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const f of files) if (!state.has(f.path)) visit(f.path);
  return cycles;
}
