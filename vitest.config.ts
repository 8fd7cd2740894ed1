import { defineConfig } from 'vitest/config';

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
          exclude: ['**/node_modules/**', '**/dist/**'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
