import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { repoRoot } from './scripts/local-cluster/paths.js';
import { referenceFleetDir } from './scripts/local-cluster/reference-fleet.js';
import { workspacePackages } from './scripts/workspace-packages.js';

/**
 * The compatibility suite (test/compat/, and the local cluster running the original fleetd) needs
 * the ORIGINAL fleet binaries, found through FLEET_REFERENCE_DIR. Without them `npm test` says in
 * one line that it did not run and why; `npm run test:compat` (FLEET_COMPAT_REQUIRED=1) runs it
 * anyway, so that it fails with that reason.
 */
const compatFiles = ['test/compat/**/*.test.ts', 'scripts/local-cluster/reference-fleet.test.ts', 'scripts/bench/bench-fleet-smoke.test.ts'];
const reference = referenceFleetDir(process.env);
const compatRuns = reference.ok || process.env['FLEET_COMPAT_REQUIRED'] === '1';
if (!compatRuns) process.stdout.write(`compatibility suite did not run: ${reference.ok ? '' : reference.why}\n`);

/**
 * Our packages resolve to their sources (each export's `source` path), so tests never run a stale
 * `dist/`: every `@fleet/<package>[/<entry>]` specifier is aliased to the file its exports map names.
 */
const sourceAliases = workspacePackages().flatMap((p) =>
  [...p.entries].map(([specifier, source]) => ({ find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`), replacement: join(repoRoot, source) })),
);

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'test/architecture/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        // Real etcd, systemd and Docker: one file at a time on these 2-core machines.
        test: {
          name: 'real-stack',
          include: ['test/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', 'test/architecture/**', 'test/faults/**', ...(compatRuns ? [] : compatFiles)],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        // The long fault runs (minute-long etcd outages, a 3-member etcd, chaos): `npm run test:faults`,
        // which .ci/run runs after `npm test` so that neither passes 15 minutes.
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
