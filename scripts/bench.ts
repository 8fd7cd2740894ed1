/**
 * Benchmark: ours and the ORIGINAL fleet side by side, on the same machine in the same run.
 *
 *   npm run bench [-- --runs 20 --heavy-runs 2 --max-units 1000 --out bench-results.jsonl --only <text> --smoke]
 *   (flock /tmp/realstack.lock: it starts two 3-machine local clusters)
 *
 * Starts a local cluster of ours and, when `FLEET_REFERENCE_DIR` names the original fleet's
 * binaries, one of the original fleetd (same machines, `agent_ttl` and reconcile interval), runs
 * every measurement for both, interleaved run by run, prints one table (min/median/max per
 * subject and the ratio of the medians, fleet's over ours) and writes every sample to a JSON-lines
 * file. Each measurement's definition is printed with the table. Both clusters are stopped at the
 * end, whatever happened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalCluster, type LocalCluster } from './local-cluster/cluster.js';
import { referenceFleetDir } from './local-cluster/reference-fleet.js';
import { leaderKill, machineKill, stillRunningRow } from './bench/failover.js';
import { destroyMany, dockerMany, idleEtcdLoad, startMany, startOneApi, startOneBlocking, startOneCli, type BenchContext, type Measurement } from './bench/measurements.js';
import { keepLaunched } from './bench/population.js';
import { benchTable, type Sample } from './bench/stats.js';
import { BenchSubject } from './bench/subject.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'heavy-runs': { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench-results.jsonl' },
    only: { type: 'string' },
    'max-units': { type: 'string', default: '1000' },
    smoke: { type: 'boolean', default: false },
  },
});
const positive = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${String(v)}`);
  return n;
};
// --smoke: every measurement once, at a few units, to check that the benchmark still works.
const smoke = values.smoke === true;
const runs = smoke ? 1 : positive('runs', values.runs);
const heavyRuns = smoke ? 1 : positive('heavy-runs', values['heavy-runs']);
const maxUnits = smoke ? 16 : positive('max-units', values['max-units']);
const sizes = smoke ? { many: 5, destroy: 3, docker: 2, kill: 3, idleMs: 2_000, quietMs: 1_000, population: 4 } : { many: 300, destroy: 30, docker: 30, kill: 6, idleMs: 10_000, quietMs: 5_000, population: 100 };
const agentTtl = '5s';
const engineReconcileInterval = 2;

/** A step of the plan: a measurement taken `runs` times per subject, or a change of the population. */
type Step = { readonly measurement: Measurement; readonly runs: number } | { readonly launched: number };

const population = new Map<string, string[]>();
const keep = (subject: BenchSubject, names: readonly string[]): void => {
  population.set(subject.label, [...(population.get(subject.label) ?? []), ...names]);
};
const plan: Step[] = [
  { measurement: idleEtcdLoad('0 units', sizes.idleMs), runs: 1 },
  { measurement: startOneCli, runs },
  { measurement: startOneApi, runs },
  { measurement: startOneBlocking, runs: smoke ? 1 : Math.max(5, Math.ceil(runs / 4)) },
  { measurement: destroyMany(sizes.destroy), runs: heavyRuns },
  { measurement: dockerMany(sizes.docker), runs: heavyRuns },
  { measurement: leaderKill, runs: heavyRuns },
  { measurement: machineKill(sizes.kill), runs: heavyRuns },
  { launched: sizes.population },
  { measurement: idleEtcdLoad(`${sizes.population} units`, sizes.idleMs), runs: 1 },
  { measurement: startMany(sizes.many), runs: 1 },
  { launched: maxUnits },
  { measurement: idleEtcdLoad(`${maxUnits} units`, sizes.idleMs), runs: 1 },
];
// --only keeps the measurements whose name holds the text, and skips the population steps.
const selected = values.only === undefined ? plan : plan.filter((s) => !('launched' in s) && s.measurement.name.includes(values.only!));
if (selected.length === 0) throw new Error(`--only ${String(values.only)} names no measurement: ${plan.flatMap((s) => ('launched' in s ? [] : [s.measurement.name])).join('; ')}`);

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

const dirs: string[] = [];
const clusters: LocalCluster[] = [];
const subjects: BenchSubject[] = [];
const samples: Sample[] = [];
try {
  const oursDir = mkdtempSync('/tmp/fl-bench-o-');
  dirs.push(oursDir);
  log('starting our 3-machine cluster');
  const ours = await startLocalCluster({ dir: oursDir, machines: 3, name: 'bench-ours', agentTtl, engineReconcileInterval });
  clusters.push(ours);
  subjects.push(new BenchSubject('ours', ours, undefined));
  const reference = referenceFleetDir();
  if (reference.ok) {
    const fleetDir = mkdtempSync('/tmp/fl-bench-f-');
    dirs.push(fleetDir);
    log('starting the original fleet\'s 3-machine cluster');
    const fleet = await startLocalCluster({ dir: fleetDir, machines: 3, name: 'bench-fleet', agentTtl, engineReconcileInterval, implementation: 'reference', referenceDir: reference.dir });
    clusters.push(fleet);
    subjects.push(new BenchSubject('fleet', fleet, reference.dir));
  } else log(`the original fleet is not measured: ${reference.why}`);
  const ctx: BenchContext = { dir: mkdtempSync('/tmp/fl-bench-units-'), log, keep, quietMs: sizes.quietMs };
  dirs.push(ctx.dir);
  const loadBefore = loadavg()[0] ?? 0;
  for (const step of selected) {
    if ('launched' in step) {
      for (const subject of subjects) {
        log(`${subject.label}: topping up to ${step.launched} launched units`);
        keep(subject, await keepLaunched(subject, ctx, population.get(subject.label)?.length ?? 0, step.launched));
      }
      continue;
    }
    for (let run = 0; run < step.runs; run++) {
      for (const subject of subjects) {
        const measured = await step.measurement.measure(subject, run, ctx);
        const sample: Sample = { measurement: step.measurement.name, subject: subject.label, run, value: measured.value, unit: step.measurement.unit, ...(measured.detail === undefined ? {} : { detail: measured.detail }) };
        samples.push(sample, ...(measured.also ?? []).map((a) => ({ ...a, subject: subject.label, run })));
        log(`${subject.label} ${step.measurement.name} #${run + 1}: ${measured.value.toFixed(1)} ${step.measurement.unit}${measured.also === undefined ? '' : ` (${measured.also.map((a) => `${a.measurement}: ${a.value}`).join(', ')})`}`);
      }
    }
  }
  const loadAfter = loadavg()[0] ?? 0;
  writeFileSync(values.out, samples.map((s) => JSON.stringify({ ...s, at: new Date().toISOString() })).join('\n') + '\n');
  const order = selected.flatMap((s) => ('launched' in s ? [] : s.measurement.name === machineKill(sizes.kill).name ? [s.measurement.name, stillRunningRow] : [s.measurement.name]));
  console.log(`${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), 3 machines per cluster, agent_ttl ${agentTtl}, engine_reconcile_interval ${engineReconcileInterval} s; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
  console.log(benchTable(samples, order, subjects.map((s) => s.label)));
  console.log(`\nraw samples: ${values.out}`);
  console.log('\ndefinitions:');
  for (const step of selected) if (!('launched' in step)) console.log(`- ${step.measurement.name}: ${step.measurement.definition}`);
} finally {
  for (const cluster of [...clusters].reverse()) await cluster.stop().catch((err: unknown) => log(`stopping ${cluster.dir}: ${String(err)}`));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
