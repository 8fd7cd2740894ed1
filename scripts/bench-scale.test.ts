import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from './local-cluster/paths.js';

// The built bench (npm test's bootstrap builds it) at a tiny size, on a real etcd: it must finish,
// print its table and its raw samples, and leave nothing behind.
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-scale-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('bench:scale runs 3 machines and 30 units to the end and prints its table', async () => {
  const out = join(dir, 'samples.jsonl');
  const started = performance.now();
  const { stdout } = await exec(process.execPath, [join(repoRoot, 'scripts/dist/bench-scale.js'), '--machines', '3', '--units', '30', '--ttl', '3', '--timeout', '20', '--out', out], { cwd: dir, timeout: 60_000 });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${stdout}(${seconds.toFixed(1)} s)\n`);
  expect(stdout).toContain('placed 30/30 (0 unplaceable), running 30/30');
  expect(stdout).toMatch(/killed 1 machines holding \d+ units: placed elsewhere [\d.]+ s, running [\d.]+ s/);
  const header = stdout.split('\n').findIndex((l) => l.trim().startsWith('machines'));
  expect(header).toBeGreaterThan(0);
  expect(stdout.split('\n')[header + 1]?.trim()).toMatch(/^3\s+30\s+/);
  const kinds = new Set(readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind));
  expect([...kinds].sort()).toEqual(['engine-pass', 'engine-steady', 'memory', 'moving', 'progress', 'result']);
  expect(seconds).toBeLessThan(30);
});
