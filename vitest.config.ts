import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * Our packages resolve to their sources (each export's `source` path), so tests never run a stale
 * `dist/`: every `@fleet/<package>[/<entry>]` specifier is aliased to the file its exports map names.
 */
function sourceAliases(): { find: RegExp; replacement: string }[] {
  const root = fileURLToPath(new URL('.', import.meta.url));
  const packagesDir = join(root, 'packages');
  return readdirSync(packagesDir).flatMap((dir) => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as {
      name: string;
      exports?: Record<string, { source?: string }>;
    };
    return Object.entries(manifest.exports ?? {}).flatMap(([entry, targets]) => {
      if (targets.source === undefined) return [];
      const specifier = entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`;
      return [{ find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`), replacement: join(packagesDir, dir, targets.source) }];
    });
  });
}

export default defineConfig({
  resolve: { alias: sourceAliases() },
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
          exclude: ['**/node_modules/**', '**/dist/**', 'test/architecture/**', ...(compatRuns ? [] : compatFiles)],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
