import { defineConfig } from 'vitest/config';
import { referenceFleetDir } from './scripts/local-cluster/reference-fleet.js';

/**
 * The compatibility suite (test/compat/, and the local cluster running the original fleetd) needs
 * the ORIGINAL fleet binaries, found through FLEET_REFERENCE_DIR. Without them `npm test` says in
 * one line that it did not run and why; `npm run test:compat` (FLEET_COMPAT_REQUIRED=1) runs it
 * anyway, so that it fails with that reason.
 */
const compatFiles = ['test/compat/**/*.test.ts', 'scripts/local-cluster/reference-fleet.test.ts'];
const reference = referenceFleetDir(process.env);
const compatRuns = reference.ok || process.env['FLEET_COMPAT_REQUIRED'] === '1';
if (!compatRuns) process.stdout.write(`compatibility suite did not run: ${reference.ok ? '' : reference.why}\n`);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', 'packages/agent/src/systemd/**'],
        },
      },
      {
        // Real etcd, systemd and Docker: one file at a time on these 2-core machines.
        test: {
          name: 'real-stack',
          include: ['test/**/*.test.ts', 'scripts/**/*.test.ts', 'packages/agent/src/systemd/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', ...(compatRuns ? [] : compatFiles)],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
