/**
 * Benchmark: etcd requests and latency per API request, served from the cluster cache.
 *
 *   npm run bench:api-requests     (builds, then runs node scripts/dist/bench-api-requests.js)
 *
 * Starts a one-member etcd, then for 100 and for 10,000 units (each size under its own key prefix):
 * stores the units (each with its own file), 3 machines' presence, a schedule entry and a reported
 * state per unit; starts our API server (unix socket) over an EtcdRegistry and an EtcdClusterCache,
 * as fleetd wires them; warms up with one request of each kind; then sends `--requests` (default
 * 200) `GET /fleet/v1/units/<name>` for random units and as many `GET /fleet/v1/state` pages at
 * random offsets (`token_limit` 100). etcd's own counter `grpc_server_started_total` (every RPC
 * etcd began, read from `<client URL>/metrics` before and after, which costs no RPC) gives the etcd
 * requests per API request; latencies are measured by the client. For comparison it also times
 * what every API request did before the cache: one `ClusterReader.snapshot()` (7 ranges at one
 * revision over the whole cluster).
 *
 * A cache whose watch has been quiet for a second checks once that etcd answers before serving a
 * read (a one-key range shared by concurrent reads): that shows up here as a fraction of a request,
 * and depends on time, not on the cluster's size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger, systemClock } from '@fleet/core';
import { startApiServer, type ApiDeps } from '@fleet/api';
import { hashUnitFile, parseUnitFile, parseUnitName, type ScheduledUnit, type Unit } from '@fleet/core/model';
import { KeySchema } from '@fleet/core/registry';
import { aMachine } from '@fleet/core/testing';
import { connectEtcd, EtcdClusterCache, EtcdLeadership, EtcdRegistry, MachinePresence } from '@fleet/etcd';
import { startEtcd } from './local-cluster/etcd.js';
import { httpRequest } from './local-cluster/http.js';
import { etcdCounters } from './bench-scale/observe.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200' }, sizes: { type: 'string', default: '100,10000' } } });
const requests = Math.max(1, Number(values.requests));
const sizes = values.sizes.split(',').map(Number);
const tokenLimit = 100;

/** Sum of etcd's `grpc_server_started_total` over every method: the RPCs etcd has begun. */
const etcdRpcs = async (clientUrl: string): Promise<number> => (await etcdCounters(clientUrl)).rpcs;

/** Runs `fn` over `items`, at most `width` at a time. */
async function parallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

const quantile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

interface Row {
  size: number;
  what: string;
  rpcsPerRequest: number;
  medianMs: number;
  p95Ms: number;
}

async function measure(size: number, what: string, clientUrl: string, paths: readonly string[], send: (path: string) => Promise<number>): Promise<Row> {
  const ms: number[] = [];
  const before = await etcdRpcs(clientUrl);
  for (const path of paths) {
    const started = performance.now();
    const status = await send(path);
    ms.push(performance.now() - started);
    if (status !== 200) throw new Error(`${path} answered ${status}`);
  }
  const after = await etcdRpcs(clientUrl);
  return { size, what, rpcsPerRequest: (after - before) / paths.length, medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-api-'));
  const etcd = await startEtcd({ dir, logFile: join(dir, 'etcd.log') });
  const connection = connectEtcd({ servers: [etcd.clientUrl], requestTimeoutMs: 10_000 });
  const stop = new AbortController();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const size of sizes) {
      const prefix = `/bench-${size}/`;
      const registry = new EtcdRegistry(connection, prefix, silentLogger);
      const machines = ['a', 'b', 'c'].map((l) => aMachine(`bench-${l}`));
      const presences = machines.map((m) => new MachinePresence(connection, prefix, m, 60, systemClock, silentLogger));
      await Promise.all(presences.map((p) => p.start(stop.signal)));
      const loadStarted = performance.now();
      const units: Unit[] = Array.from({ length: size }, (_, i) => {
        const file = parseUnitFile(`[Service]\nExecStart=/bin/sleep ${i}\n`);
        return { name: parseUnitName(`u${String(i).padStart(5, '0')}.service`), file, hash: hashUnitFile(file), desiredState: 'launched' };
      });
      await parallel(units, 64, (u) => registry.createUnit(u));
      const leadership = new EtcdLeadership(connection, prefix, 60, systemClock, silentLogger);
      const term = await leadership.campaign(machines[0]!.id, stop.signal);
      const entries: ScheduledUnit[] = units.map((u, i) => ({ name: u.name, machineId: machines[i % 3]!.id, targetState: 'launched', hash: u.hash }));
      const outcome = await registry.applyScheduleChanges(entries.map((entry) => ({ kind: 'schedule', entry })), term.fence);
      if (!outcome.ok) throw new Error('schedule write refused');
      await parallel(entries, 64, (e) => presences[machines.findIndex((m) => m.id === e.machineId)]!.publishState({
        name: e.name, machineId: e.machineId, hash: e.hash, loadState: 'loaded', activeState: 'active', subState: 'running',
      }));
      const loadMs = performance.now() - loadStarted;

      const fillStarted = performance.now();
      const cache = new EtcdClusterCache(connection, new KeySchema(prefix), silentLogger);
      await cache.start(stop.signal);
      const fillMs = performance.now() - fillStarted;
      const deps: ApiDeps = { units: registry, cluster: cache, machines: registry, tokenLimit };
      const socketPath = join(dir, `api-${size}.sock`);
      const server = await startApiServer(deps, { socketPath }, silentLogger);
      const send = async (path: string): Promise<number> => (await httpRequest({ socketPath, path })).status;

      const random = (n: number): number => Math.floor(Math.random() * n);
      const unitPaths = Array.from({ length: requests }, () => `/fleet/v1/units/${units[random(size)]!.name}`);
      const pages = Math.ceil(size / tokenLimit);
      const statePaths = Array.from({ length: requests }, () => {
        const page = random(pages);
        return `/fleet/v1/state${page === 0 ? '' : `?nextPageToken=${Buffer.from(String(page * tokenLimit)).toString('base64url')}`}`;
      });
      // Warm-up: the first request of each kind (and JIT); then the measured ones.
      await send(unitPaths[0]!);
      await send(statePaths[0]!);
      rows.push(await measure(size, 'GET /fleet/v1/units/<name>', etcd.clientUrl, unitPaths, send));
      rows.push(await measure(size, 'GET /fleet/v1/state (a page of 100)', etcd.clientUrl, statePaths, send));

      // Before the cache, every API request read one whole snapshot.
      const snapMs: number[] = [];
      const before = await etcdRpcs(etcd.clientUrl);
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await registry.snapshot();
        snapMs.push(performance.now() - started);
      }
      const after = await etcdRpcs(etcd.clientUrl);
      rows.push({ size, what: 'one snapshot (what each request read before)', rpcsPerRequest: (after - before) / 5, medianMs: quantile(snapMs, 0.5), p95Ms: quantile(snapMs, 0.95) });
      notes.push(`${size} units: stored in ${(loadMs / 1000).toFixed(1)} s; cache filled in ${fillMs.toFixed(0)} ms (fills: ${cache.fills}, revision ${cache.revision})`);

      await server.close();
      await term.resign();
      await Promise.all(presences.map((p) => p.stop({ revoke: true })));
    }
  } finally {
    stop.abort();
    connection.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`etcd requests and latency per API request, ${requests} requests each, over the cluster cache\n`);
  console.log(`${'units'.padStart(6)}  ${'request'.padEnd(46)} ${'etcd RPCs/req'.padStart(13)} ${'median ms'.padStart(10)} ${'p95 ms'.padStart(8)}`);
  for (const r of rows) {
    console.log(`${String(r.size).padStart(6)}  ${r.what.padEnd(46)} ${r.rpcsPerRequest.toFixed(3).padStart(13)} ${r.medianMs.toFixed(2).padStart(10)} ${r.p95Ms.toFixed(2).padStart(8)}`);
  }
  console.log('');
  for (const n of notes) console.log(n);
}

await main();
