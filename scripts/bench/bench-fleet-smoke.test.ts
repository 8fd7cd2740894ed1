import { expect, it } from 'vitest';
import { runBench } from './bench-run.js';

// Part of the compatibility suite (see vitest.config.ts): it needs the original fleet.
it('npm run bench --only: the original fleet measured beside ours in the same run, when FLEET_REFERENCE_DIR names it', async () => {
  const { stdout, samples } = await runBench(['--smoke', '--only', 'API PUT'], process.env);
  expect(stdout).toMatch(/^one unit: API PUT -> running\s+ms\s+1\s.*\s1\s.*x$/m);
  expect(samples.map((s) => s.subject).sort()).toEqual(['fleet', 'ours']);
}, 180_000);
