/**
 * Benchmark: the engine's pure placement planner (`planEngineTasks`), no I/O.
 *
 *   npm run bench:placement        (builds, then runs node scripts/dist/bench-placement.js)
 *
 * Places N units on M machines with mixed rules from an empty schedule (one `planEngineTasks` call
 * places everything), for M = 100, 250, 500, 1000 with N = 10 × M, then for a fixed N = 10,000 on the
 * same machine counts to show how the cost grows with machines alone. A second table times a second
 * pass over a snapshot whose schedule (and unit reasons) is the result of the first pass: the
 * steady-state cost when there is nothing to change.
 *
 * Inputs are deterministic (seeded PRNG): machines carry rack=r1..r20 and disk=ssd|hdd; units are
 * ~50% plain, ~15% `web@i` with SpreadBy=rack, ~10% MachineMetadata (disk=ssd, or rack in a set of 3),
 * ~10% `db@i` with Conflicts=db@* (at most 0.9 × M of them, so that they fit), ~5% `backup@i` with
 * Conflicts=db@<i> and ConflictsScope=rack, ~5% MachineOf a plain unit, ~3% Global (at most 10),
 * ~2% MachineID pins. Requirements are built directly (no unit-file parsing in the timed part).
 * Each size is warmed up once, then the median of `--runs` (default 3) runs is reported.
 */
import { parseArgs } from 'node:util';
import { planEngineTasks, type EnginePlan } from '@fleet/engine';
import type { MachineState, Requirements, ScheduledUnit, UnitName } from '@fleet/core/model';
import type { ClusterSnapshot } from '@fleet/core/registry';
import { aMachine, aRequirements, aSnapshot, aUnit } from '@fleet/core/testing';
import { seededRandom } from './seeded-random.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Math.max(1, Number(values.runs));

interface Workload {
  readonly machines: number;
  readonly units: number;
  readonly snapshot: ClusterSnapshot;
  readonly requirements: Map<UnitName, Requirements>;
  readonly mix: Record<string, number>;
}

const pad = (i: number): string => String(i).padStart(5, '0');

function workload(machineCount: number, unitCount: number, seed = 20240601): Workload {
  const rand = seededRandom(seed ^ (machineCount * 7919) ^ unitCount);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const racks = Array.from({ length: 20 }, (_, i) => `r${i + 1}`);

  const machines: MachineState[] = [];
  for (let i = 0; i < machineCount; i++) {
    machines.push(aMachine(`m${pad(i)}`, { rack: racks[i % racks.length] as string, disk: rand() < 0.5 ? 'ssd' : 'hdd' }));
  }

  const globals = Math.min(10, Math.round(unitCount * 0.03));
  const dbs = Math.min(Math.round(unitCount * 0.1), Math.floor(machineCount * 0.9));
  const webs = Math.round(unitCount * 0.15);
  const metas = Math.round(unitCount * 0.1);
  const backups = Math.round(unitCount * 0.05);
  const sides = Math.round(unitCount * 0.05);
  const pins = Math.round(unitCount * 0.02);
  const plains = unitCount - globals - dbs - webs - metas - backups - sides - pins;

  const requirements = new Map<UnitName, Requirements>();
  const names: string[] = [];
  const add = (name: string, req: Requirements): void => {
    names.push(name);
    requirements.set(name as UnitName, req);
  };
  const plainNames: string[] = [];
  for (let i = 0; i < plains; i++) {
    const name = `app-${pad(i)}.service`;
    plainNames.push(name);
    add(name, aRequirements());
  }
  for (let i = 0; i < webs; i++) add(`web@${i}.service`, aRequirements({ spreadBy: 'rack' }));
  for (let i = 0; i < metas; i++) {
    if (i % 2 === 0) add(`meta-${pad(i)}.service`, aRequirements({ metadata: { disk: ['ssd'] } }));
    else {
      const start = Math.floor(rand() * racks.length);
      const set = [0, 7, 13].map((d) => racks[(start + d) % racks.length] as string);
      add(`meta-${pad(i)}.service`, aRequirements({ metadata: { rack: set } }));
    }
  }
  for (let i = 0; i < dbs; i++) add(`db@${i}.service`, aRequirements({ conflicts: ['db@*'] }));
  for (let i = 0; i < backups; i++) {
    add(`backup@${i}.service`, aRequirements({ conflicts: [`db@${dbs === 0 ? i : i % dbs}.service`], conflictsScope: 'rack' }));
  }
  for (let i = 0; i < sides; i++) add(`side-${pad(i)}.service`, aRequirements({ machineOf: [pick(plainNames) as UnitName] }));
  for (let i = 0; i < globals; i++) {
    add(`agent-${pad(i)}.service`, aRequirements(i % 2 === 0 ? { global: true } : { global: true, metadata: { disk: ['ssd'] } }));
  }
  for (let i = 0; i < pins; i++) add(`pin-${pad(i)}.service`, aRequirements({ machineId: pick(machines).id }));

  const units = names.map((n) => aUnit(n));
  const snapshot = aSnapshot({ units, machines, unitFileHashes: [...new Set(units.map((u) => u.hash))] });
  return {
    machines: machineCount,
    units: units.length,
    snapshot,
    requirements,
    mix: { plain: plains, web: webs, meta: metas, db: dbs, backup: backups, machineOf: sides, global: globals, pin: pins },
  };
}

/** The snapshot the next pass would see once the first plan's changes are stored. */
function afterPlan(w: Workload, plan: EnginePlan): ClusterSnapshot {
  const schedule: ScheduledUnit[] = [];
  const reasons = new Map<UnitName, string>();
  for (const task of plan.tasks) {
    const c = task.change;
    if (c.kind === 'schedule') schedule.push(c.entry);
    else if (c.kind === 'set-reason') reasons.set(c.name, c.reason);
  }
  return { ...w.snapshot, schedule, reasons };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function time(snapshot: ClusterSnapshot, requirements: ReadonlyMap<UnitName, Requirements>): { ms: number; min: number; plan: EnginePlan } {
  let plan = planEngineTasks(snapshot, requirements); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    plan = planEngineTasks(snapshot, requirements);
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), min: Math.min(...samples), plan };
}

interface Row {
  machines: number;
  units: number;
  placed: number;
  unplaceable: number;
  entries: number;
  ms: number;
  min: number;
  secondTasks: number;
  secondMs: number;
  secondMin: number;
  mix: Record<string, number>;
}

function measure(machines: number, units: number): Row {
  const w = workload(machines, units);
  const first = time(w.snapshot, w.requirements);
  const placedNames = new Set<string>();
  let entries = 0;
  for (const t of first.plan.tasks) {
    if (t.change.kind !== 'schedule') continue;
    entries++;
    placedNames.add(t.change.entry.name);
  }
  const second = time(afterPlan(w, first.plan), w.requirements);
  return {
    machines,
    units: w.units,
    placed: placedNames.size,
    unplaceable: first.plan.unplaceable.length,
    entries,
    ms: first.ms,
    min: first.min,
    secondTasks: second.plan.tasks.length,
    secondMs: second.ms,
    secondMin: second.min,
    mix: w.mix,
  };
}

const cols = (cells: Array<string | number>, widths: readonly number[]): string =>
  cells.map((c, i) => String(c).padEnd(widths[i] ?? 10)).join('').trimEnd();
const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const perUnit = (ms: number, units: number): string => ((ms * 1000) / units).toFixed(1);

const started = performance.now();
const scaled = [100, 250, 500, 1000].map((m) => ({ machines: m, units: 10 * m }));
const fixed = [100, 250, 500, 1000].map((m) => ({ machines: m, units: 10_000 }));
const results = new Map<string, Row>();
for (const { machines, units } of [...scaled, ...fixed]) {
  const key = `${machines}x${units}`;
  if (!results.has(key)) results.set(key, measure(machines, units));
}
const row = (m: number, n: number): Row => results.get(`${m}x${n}`) as Row;

const mix = row(1000, 10_000).mix;
const w1 = [10, 8, 9, 13, 8, 8, 10];
console.log(`placement benchmark (pure planEngineTasks, no I/O; node ${process.version}, warm-up + median of ${runs})`);
console.log(`unit mix at 1000 x 10000: ${Object.entries(mix).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log('(db@ capped at 0.9 x machines, global at 10; the difference goes to plain units)');
console.log('ms = median, µs/unit = median ms x 1000 / units; entries = schedule entries incl. one per machine per global unit');
for (const [title, series] of [
  ['N = 10 x M', scaled],
  ['fixed N = 10,000, growing M', fixed],
] as const) {
  console.log(`\nfirst pass from an empty schedule, ${title}`);
  console.log(cols(['machines', 'units', 'placed', 'unplaceable', 'ms', 'min ms', 'µs/unit'], w1));
  for (const { machines, units } of series) {
    const r = row(machines, units);
    console.log(cols([r.machines, r.units, r.placed, r.unplaceable, fmt(r.ms), fmt(r.min), perUnit(r.ms, r.units)], w1));
  }
}
console.log('\nsecond pass with nothing to change (schedule = first pass result)');
const w2 = [10, 8, 10, 8, 8, 8, 10];
console.log(cols(['machines', 'units', 'entries', 'tasks', 'ms', 'min ms', 'µs/unit'], w2));
for (const { machines, units } of [...scaled, ...fixed.filter((f) => f.machines !== 1000)]) {
  const r = row(machines, units);
  console.log(cols([r.machines, r.units, r.entries, r.secondTasks, fmt(r.secondMs), fmt(r.secondMin), perUnit(r.secondMs, r.units)], w2));
}
console.log(`\ntotal wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
