/**
 * Benchmark: how long a short fleetctl command takes, start to exit, as a user waits for it.
 *
 *   npm run bench:fleetctl-startup [-- --runs 20]
 *   (flock /tmp/realstack.lock: it starts a one-machine local cluster)
 *
 * Runs, interleaved, `runs` times each: `node -e 0` (Node's own floor), `fleetctl version` and
 * `fleetctl list-units` against the local cluster through the bin that `fleetctl` resolves to
 * (`fleetctlBin`: the CommonJS bundle with its V8 code cache when built and current, see
 * scripts/bundle-fleetctl.ts), through tsc's unbundled output, and through the ORIGINAL
 * fleetctl (`FLEET_REFERENCE_DIR`, when set). Prints median and p90 in ms, and the load average,
 * because these figures mean little on a busy machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startLocalCluster } from './local-cluster/cluster.js';
import { fleetctlBin, repoRoot } from './local-cluster/paths.js';
import { referenceFleetDir } from './local-cluster/reference-fleet.js';

const exec = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);

/** One program to time: how to run it with fleetctl's arguments. */
interface Subject {
  readonly label: string;
  readonly argv: (args: readonly string[]) => readonly string[];
}

const distBin = join(repoRoot, 'packages/fleetctl/dist/bin/fleetctl.js');
const subjects: Subject[] = [{ label: `ours (${relativeToRepo(fleetctlBin)})`, argv: (a) => [process.execPath, fleetctlBin, ...a] }];
if (distBin !== fleetctlBin && existsSync(distBin)) {
  subjects.push({ label: `ours, unbundled (${relativeToRepo(distBin)})`, argv: (a) => [process.execPath, distBin, ...a] });
}
const reference = referenceFleetDir();
if (reference.ok) subjects.push({ label: 'original fleetctl', argv: (a) => [join(reference.dir, 'fleetctl'), ...a] });
else console.log(`original fleetctl: not measured (${reference.why})`);

/** Wall time of one run in ms; a failed run is an error, not a sample. */
async function timeOnce(argv: readonly string[]): Promise<number> {
  const [file = '', ...args] = argv;
  const t0 = performance.now();
  await exec(file, args, { env: { PATH: process.env['PATH'] ?? '' } });
  return performance.now() - t0;
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
}

function relativeToRepo(path: string): string {
  return path.startsWith(`${repoRoot}/`) ? path.slice(repoRoot.length + 1) : path;
}

const dir = mkdtempSync('/tmp/fl-bench-startup-');
const cluster = await startLocalCluster({ dir, machines: 1, name: 'bench-startup' });
try {
  const endpoint = ['--endpoint', `unix://${cluster.machines[0]?.apiSocket ?? ''}`];
  const cases: { label: string; argv: readonly string[] }[] = [{ label: 'node -e 0', argv: [process.execPath, '-e', '0'] }];
  for (const s of subjects) {
    cases.push({ label: `${s.label}: version`, argv: s.argv(['version']) });
    cases.push({ label: `${s.label}: list-units`, argv: s.argv([...endpoint, 'list-units']) });
  }
  const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  for (const c of cases) await timeOnce(c.argv); // warm the page cache; not counted
  const loadBefore = loadavg()[0] ?? 0;
  for (let i = 0; i < runs; i++) for (const c of cases) samples.get(c.label)?.push(await timeOnce(c.argv));
  const loadAfter = loadavg()[0] ?? 0;
  console.log(`fleetctl start-up, ${runs} runs each, interleaved; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
  const width = Math.max(...cases.map((c) => c.label.length));
  console.log(`${'command'.padEnd(width)}  median ms  p90 ms`);
  for (const c of cases) {
    const xs = samples.get(c.label) ?? [];
    console.log(`${c.label.padEnd(width)}  ${quantile(xs, 0.5).toFixed(0).padStart(9)}  ${quantile(xs, 0.9).toFixed(0).padStart(6)}`);
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
