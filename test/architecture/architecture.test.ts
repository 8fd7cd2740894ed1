import { describe, expect, it } from 'vitest';
import { workspacePackages } from '../../scripts/workspace-packages.js';
import { importCycles, packageOfSpecifier, sourceFiles, type SourceFile } from './source-graph.js';

const files = sourceFiles();
const packages = workspacePackages();
const packageByName = new Map(packages.map((p) => [p.name, p]));

/** Files that import a bare specifier of `library`, outside `allowed` path prefixes. */
function importersOf(library: string, allowed: readonly string[]): string[] {
  return files
    .filter((f) => f.imports.some((i) => packageOfSpecifier(i.specifier) === library))
    .map((f) => f.path)
    .filter((path) => !allowed.some((prefix) => path.startsWith(prefix)));
}

/** The pure planners: decisions from a view of the cluster, no I/O, no clock. */
const plannerFiles = files.filter(
  (f) =>
    !f.isTest &&
    (f.path.startsWith('packages/engine/src/scheduler/') ||
      /^packages\/engine\/src\/reconciler\/(plan|global-placement|grace|stop-grace)\.ts$/.test(f.path) ||
      f.path === 'packages/agent/src/plan.ts'),
);

describe('architecture', () => {
  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(packages.map((p) => p.dir).sort()).toEqual(['agent', 'api', 'core', 'engine', 'etcd', 'fleetctl', 'fleetd']);
    expect(plannerFiles.length).toBeGreaterThanOrEqual(7);
  });

  it('only the etcd package imports etcd3 (tests of that package on a real etcd may, to inspect raw keys, and the fault tests, to read its history)', () => {
    expect(importersOf('etcd3', ['packages/etcd/src/', 'test/registry/', 'test/faults/'])).toEqual([]);
  });

  it('only the agent imports D-Bus', () => {
    expect(importersOf('@jellybrick/dbus-next', ['packages/agent/src/'])).toEqual([]);
    expect(importersOf('dbus-next', ['packages/agent/src/'])).toEqual([]);
  });

  it("only fleetd's composition root imports pino: every other package logs through @fleet/core's Logger", () => {
    expect(importersOf('pino', ['packages/fleetd/src/pino-logger.ts', 'packages/fleetd/src/pino-logger.test.ts'])).toEqual([]);
  });

  it('only fleetctl imports yargs', () => {
    expect(importersOf('yargs', ['packages/fleetctl/src/'])).toEqual([]);
  });

  it('the pure planners import no I/O and no clock', () => {
    const problems: string[] = [];
    for (const f of plannerFiles) {
      for (const i of f.imports) {
        // Type-only imports are erased: a planner may name a port's types, never call one.
        const pure = i.typeOnly || i.specifier === '@fleet/core/model' || plannerFiles.some((p) => p.path === i.target);
        if (!pure) problems.push(`${f.path} imports ${i.specifier}`);
      }
      const code = f.text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const clockUse of ['Date.now', 'new Date', 'setTimeout', 'setInterval', 'performance.', 'Math.random', 'process.']) {
        if (code.includes(clockUse)) problems.push(`${f.path} uses ${clockUse}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("nothing imports another package's internal files: only the entries of its exports maps", () => {
    const problems: string[] = [];
    for (const f of files) {
      for (const i of f.imports) {
        if (i.specifier.startsWith('.')) {
          // Relative imports stay inside the file's own package; scripts/ and test/ reach packages through their entries.
          const target = i.target ?? '';
          const inside = f.packageName === undefined ? !target.startsWith('packages/') && !target.startsWith('..') : target.startsWith(`packages/${f.packageName}/`);
          if (!inside) problems.push(`${f.path} reaches into ${target}`);
        } else if (i.specifier.startsWith('@fleet/') && i.target === undefined) {
          problems.push(`${f.path} imports ${i.specifier}, which is not in an exports map`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('each package imports only what its package.json declares (tests: dev dependencies too)', () => {
    const problems: string[] = [];
    for (const f of files) {
      if (f.packageName === undefined) continue;
      const own = packages.find((p) => p.dir === f.packageName);
      if (own === undefined) continue;
      for (const i of f.imports) {
        if (i.specifier.startsWith('.') || i.specifier.startsWith('node:')) continue;
        const dependency = packageOfSpecifier(i.specifier);
        if (dependency === own.name) {
          problems.push(`${f.path} imports its own package through ${i.specifier}`);
          continue;
        }
        const declared = own.dependencies.has(dependency) || (f.isTest && (own.devDependencies.has(dependency) || dependency === 'vitest'));
        const typesOnly = i.typeOnly && own.devDependencies.has(`@types/${dependency}`);
        if (!declared && !typesOnly) problems.push(`${f.path} imports ${dependency}, not declared by ${own.name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('@fleet/core depends on nothing', () => {
    expect([...(packageByName.get('@fleet/core')?.dependencies ?? [])]).toEqual([]);
  });

  it('no import cycles, between files or between packages', () => {
    expect(importCycles(files)).toEqual([]);
    const graph = new Map(packages.map((p) => [p.name, [...p.dependencies, ...p.devDependencies].filter((d) => packageByName.has(d))]));
    const cycles: string[] = [];
    const visit = (name: string, path: readonly string[]): void => {
      if (path.includes(name)) {
        cycles.push([...path, name].join(' -> '));
        return;
      }
      for (const next of graph.get(name) ?? []) visit(next, [...path, name]);
    };
    for (const name of graph.keys()) visit(name, []);
    expect(cycles).toEqual([]);
  });

  it('no source file over 400 lines', () => {
    const long = files.filter((f: SourceFile) => f.lines > 400).map((f) => `${f.path}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });
});
