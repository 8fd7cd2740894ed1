/**
 * One size of `npm run bench:scale`: a fresh etcd, the simulated fleetds in worker processes (two
 * of them with the engine, leader and standby), our API server over an EtcdRegistry and an
 * EtcdClusterCache as fleetd wires them, the units submitted through `POST /fleet/v1/units`, then
 * the measurements (see bench-scale.ts). Everything it started is stopped before it returns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryUnavailableError, silentLogger } from '@fleet/core';
import { startApiServer } from '@fleet/api';
import type { MachineId, UnitName } from '@fleet/core/model';
import { KeySchema, type ClusterView } from '@fleet/core/registry';
import { connectEtcd, EtcdClusterCache, EtcdRegistry } from '@fleet/etcd';
import { startEtcd } from '../local-cluster/etcd.js';
import { httpRequest } from '../local-cluster/http.js';
import { repoRoot } from '../local-cluster/paths.js';
import { etcdCounters, progress, runningElsewhere } from './observe.js';
import { Worker, type EngineReport, type MemoryReport } from './protocol.js';
import { split, workload } from './workload.js';

export interface CellOptions {
  readonly machines: number;
  readonly units: number;
  readonly workers: number;
  readonly ttlSeconds: number;
  /** Longest wait for all units to run (and, after the kill, to run elsewhere), in seconds. */
  readonly timeoutSeconds: number;
  /** Called with each raw sample (progress over time, per-process memory, engine passes). */
  readonly sample: (record: Record<string, unknown>) => void;
  readonly say: (line: string) => void;
}

export interface CellResult {
  readonly machines: number;
  readonly units: number;
  readonly submitS: number;
  readonly placedS: number | undefined;
  readonly runningS: number | undefined;
  readonly rpcs: number;
  readonly mbIn: number;
  readonly mbOut: number;
  readonly decisionUs: number | undefined;
  readonly steadyUsPerUnit: number | undefined;
  /** RSS per machine in the machine workers, MB (whole process over its machines). */
  readonly mbPerMachine: number;
  readonly engineMb: number;
  readonly statePageMs: number;
  readonly stateAllS: number;
  readonly killed: number;
  readonly movedUnits: number;
  readonly movedS: number | undefined;
  readonly problems: readonly string[];
}

const workerScript = join(repoRoot, 'scripts/dist/bench-scale/fleetd-worker.js');
const prefix = '/fleet-scale/';
const tokenLimit = 100;
const postBatch = 1_000;
const mb = (bytes: number): number => bytes / 1024 / 1024;

/**
 * The API cache's view, or undefined while it lags more than its wait (2 s) behind this process's
 * own writes (the API would answer 503 then); each such miss is a sample.
 */
async function viewOf(cache: EtcdClusterCache, o: CellOptions, t0: number): Promise<ClusterView | undefined> {
  try {
    return await cache.view();
  } catch (err) {
    if (!(err instanceof RegistryUnavailableError)) throw err;
    o.sample({ kind: 'view-lag', cell: `${o.machines}x${o.units}`, t: (performance.now() - t0) / 1000, message: err.message });
    return undefined;
  }
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; resolves with the seconds taken, or undefined. */
async function timeUntil(t0: number, timeoutMs: number, everyMs: number, check: () => Promise<boolean> | boolean): Promise<number | undefined> {
  for (;;) {
    if (await check()) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutMs) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function runCell(o: CellOptions): Promise<CellResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-scale-'));
  const workers: Worker[] = [];
  const stopCache = new AbortController();
  let closeRest = async (): Promise<void> => undefined;
  const etcd = await startEtcd({ dir, logFile: join(dir, 'etcd.log') });
  // Interrupted: etcd is detached and would outlive us (the workers exit when their IPC channel closes).
  const interrupted = (): void => {
    try {
      process.kill(etcd.process.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const load = workload(o.machines, o.units);
    const cell = `${o.machines}x${o.units}`;
    const engines = Math.min(2, o.machines);
    const plain = load.machines.slice(engines);
    const start = (machines: typeof plain, engine: boolean, label: string): Promise<unknown> => {
      const w = new Worker(workerScript, label);
      workers.push(w);
      return w.call({ kind: 'start', etcdUrl: etcd.clientUrl, prefix, ttlSeconds: o.ttlSeconds, machines, engine }, 'started');
    };
    // The first engine campaigns first, so it leads; the second stands by.
    for (let i = 0; i < engines; i++) await start([load.machines[i]!], true, `engine-${i}`);
    const groups = split(plain, o.workers);
    const t = performance.now();
    await Promise.all(groups.map((g, i) => start(g, false, `machines-${i}`)));
    o.say(`  ${o.machines} machines registered in ${((performance.now() - t) / 1000).toFixed(1)} s (${groups.length} worker processes + ${engines} engine fleetds)`);

    const connection = connectEtcd({ servers: [etcd.clientUrl], requestTimeoutMs: 10_000 });
    const registry = new EtcdRegistry(connection, prefix, silentLogger);
    const cache = new EtcdClusterCache(connection, new KeySchema(prefix), silentLogger);
    await cache.start(stopCache.signal);
    const socketPath = join(dir, 'api.sock');
    const server = await startApiServer({ units: registry, cluster: cache, machines: registry, tokenLimit }, { socketPath }, silentLogger);
    closeRest = async () => {
      await server.close();
      stopCache.abort();
      connection.close();
    };
    await timeUntil(performance.now(), 30_000, 100, async () => (await cache.view()).machines().length === o.machines);

    const names = load.units.map((u) => u.name as UnitName);
    const before = await etcdCounters(etcd.clientUrl);
    const t0 = performance.now();
    const batches = split(load.units, Math.ceil(load.units.length / postBatch));
    let next = 0;
    await Promise.all([0, 1].map(async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const res = await httpRequest({ socketPath, path: '/fleet/v1/units' }, { method: 'POST', body: { units: batch }, timeoutMs: 120_000 });
        if (res.status !== 200) throw new Error(`POST /fleet/v1/units answered ${res.status}: ${res.body.slice(0, 300)}`);
      }
    }));
    const submitS = (performance.now() - t0) / 1000;
    let placedS: number | undefined;
    let last = { placed: 0, unplaceable: 0, running: 0, expectedRunning: 0 };
    const runningS = await timeUntil(t0, o.timeoutSeconds * 1000, 250, async () => {
      const view = await viewOf(cache, o, t0);
      if (view === undefined) return false;
      last = progress(view, names, load.globals);
      const at = (performance.now() - t0) / 1000;
      o.sample({ kind: 'progress', cell, t: at, ...last });
      const settled = last.placed + last.unplaceable === names.length;
      if (placedS === undefined && settled) placedS = at;
      return settled && last.running >= last.expectedRunning;
    });
    const after = await etcdCounters(etcd.clientUrl);
    o.say(`  submitted in ${submitS.toFixed(1)} s; placed ${last.placed}/${names.length} (${last.unplaceable} unplaceable), running ${last.running}/${last.expectedRunning}${runningS === undefined ? ` (timed out after ${o.timeoutSeconds} s)` : ''}`);

    // A worker busy in a long engine pass answers late (its event loop is blocked): a minute, then without it.
    const memories = (await Promise.all(workers.map(async (w) => {
      const reply = await w.call({ kind: 'memory' }, 'memory', 60_000).catch((err: unknown) => o.say(`  no memory report: ${(err as Error).message}`));
      return reply === undefined ? undefined : { label: w.label, memory: reply.memory };
    }))).filter((m) => m !== undefined);
    for (const m of memories) o.sample({ kind: 'memory', cell, process: m.label, ...m.memory });
    const engineReports = await Promise.all(workers.slice(0, engines).map(async (w) => (await w.call({ kind: 'engine' }, 'engine', 120_000).catch((err: unknown) => {
      o.say(`  no engine report: ${(err as Error).message}`);
    }))?.engine));
    const leader = engineReports.find((r) => r !== undefined && r.passes.length > 0);
    for (const p of leader?.passes ?? []) o.sample({ kind: 'engine-pass', cell, ...p });
    if (leader?.steady !== undefined) o.sample({ kind: 'engine-steady', cell, ...leader.steady });

    const { pageMs, allS } = await statePages(socketPath, names.length);
    // Killing machines of a cluster that has not converged measures nothing: skipped then.
    const moved = runningS === undefined ? { killed: 0, movedUnits: 0, movedS: undefined } : await killTenth(o, workers.slice(engines), groups, cache, load.globals);
    const problems = memories.flatMap((m) => m.memory.firstProblems.map((p) => `${m.label}: ${p}`));
    return {
      machines: o.machines, units: o.units, submitS, placedS, runningS,
      rpcs: after.rpcs - before.rpcs, mbIn: mb(after.bytesIn - before.bytesIn), mbOut: mb(after.bytesOut - before.bytesOut),
      decisionUs: decisionUs(leader), steadyUsPerUnit: leader?.steady === undefined ? undefined : (1000 * (leader.steady.inputMs + leader.steady.planMs)) / leader.steady.units,
      mbPerMachine: perMachine(memories.filter((m) => m.label.startsWith('machines-')).map((m) => m.memory)), engineMb: mb(memories.find((m) => m.label === 'engine-0')?.memory.rss ?? NaN),
      statePageMs: pageMs, stateAllS: allS, ...moved, problems,
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    const stopping = performance.now();
    await closeRest().catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop()));
    const workersS = (performance.now() - stopping) / 1000;
    await etcd.stop();
    o.say(`  stopped: workers in ${workersS.toFixed(1)} s, etcd ${((performance.now() - stopping) / 1000 - workersS).toFixed(1)} s later`);
    rmSync(dir, { recursive: true, force: true });
  }
}

function decisionUs(leader: EngineReport | undefined): number | undefined {
  const passes = leader?.passes ?? [];
  const tasks = passes.reduce((s, p) => s + p.tasks, 0);
  return tasks === 0 ? undefined : (1000 * passes.reduce((s, p) => s + p.planMs, 0)) / tasks;
}

function perMachine(memories: readonly MemoryReport[]): number {
  const machines = memories.reduce((s, m) => s + m.machines, 0);
  return machines === 0 ? NaN : mb(memories.reduce((s, m) => s + m.rss, 0)) / machines;
}

/** A page of `GET /fleet/v1/state` at random offsets (median of 20), and every page one after the other. */
async function statePages(socketPath: string, units: number): Promise<{ pageMs: number; allS: number }> {
  const get = async (path: string): Promise<{ nextPageToken?: string }> => {
    const res = await httpRequest({ socketPath, path });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return JSON.parse(res.body) as { nextPageToken?: string };
  };
  const pages = Math.max(1, Math.ceil(units / tokenLimit));
  const ms: number[] = [];
  for (let i = 0; i < 21; i++) {
    const page = Math.floor(Math.random() * pages);
    const started = performance.now();
    await get(`/fleet/v1/state${page === 0 ? '' : `?nextPageToken=${Buffer.from(String(page * tokenLimit)).toString('base64url')}`}`);
    if (i > 0) ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  const started = performance.now();
  let token: string | undefined;
  do token = (await get(`/fleet/v1/state${token === undefined ? '' : `?nextPageToken=${token}`}`)).nextPageToken;
  while (token !== undefined);
  return { pageMs: ms[Math.floor(ms.length / 2)] ?? NaN, allS: (performance.now() - started) / 1000 };
}

/** Kills every tenth plain machine at once (at least one) and times until their units run elsewhere. */
async function killTenth(o: CellOptions, workers: readonly Worker[], groups: readonly (readonly { id: MachineId }[])[], cache: EtcdClusterCache, globals: ReadonlySet<string>): Promise<{ killed: number; movedUnits: number; movedS: number | undefined }> {
  const plain = groups.flat();
  if (plain.length === 0) return { killed: 0, movedUnits: 0, movedS: undefined };
  const count = Math.max(1, Math.round(o.machines / 10));
  const victims = new Set(plain.filter((_, i) => i % Math.max(1, Math.floor(plain.length / count)) === 0).slice(0, count).map((m) => m.id));
  const view = await cache.view();
  const names: UnitName[] = [];
  for (let offset = 0; offset < view.unitCount; offset += 1_000) {
    for (const u of view.units(offset, 1_000)) {
      if (!globals.has(u.name) && view.placements(u.name).some((e) => victims.has(e.machineId))) names.push(u.name);
    }
  }
  const t0 = performance.now();
  await Promise.all(workers.map((w, i) => w.call({ kind: 'kill', ids: (groups[i] ?? []).filter((m) => victims.has(m.id)).map((m) => m.id) }, 'killed')));
  let placedS: number | undefined;
  let unplaceable = 0;
  const movedS = await timeUntil(t0, (o.ttlSeconds + o.timeoutSeconds) * 1000, 250, async () => {
    const view = await viewOf(cache, o, t0);
    if (view === undefined) return false;
    const p = runningElsewhere(view, names, victims);
    const at = (performance.now() - t0) / 1000;
    o.sample({ kind: 'moving', cell: `${o.machines}x${o.units}`, t: at, total: names.length, ...p });
    if (placedS === undefined && p.placed + p.unplaceable === names.length) placedS = at;
    unplaceable = p.unplaceable;
    return p.running + p.unplaceable === names.length;
  });
  o.say(`  killed ${victims.size} machines holding ${names.length} units: placed elsewhere ${placedS?.toFixed(1) ?? '-'} s, running ${movedS?.toFixed(1) ?? 'timed out'} s (TTL ${o.ttlSeconds} s; ${unplaceable} unplaceable)`);
  return { killed: victims.size, movedUnits: names.length, movedS };
}
