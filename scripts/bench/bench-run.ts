import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../local-cluster/paths.js';

const exec = promisify(execFile);

/**
 * Runs the built benchmark (`scripts/dist/bench.js`) with `args` as a user would, for the smoke
 * tests; resolves its stdout and the samples it wrote. Throws with its output if it fails.
 */
export async function runBench(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; samples: { measurement: string; subject: string; value: number }[] }> {
  const dir = mkdtempSync('/tmp/fl-bench-smoke-');
  try {
    const out = join(dir, 'samples.jsonl');
    const { stdout } = await exec(process.execPath, [join(repoRoot, 'scripts/dist/bench.js'), ...args, '--out', out], { env, cwd: repoRoot, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 });
    const samples = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { measurement: string; subject: string; value: number });
    return { stdout, samples };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
