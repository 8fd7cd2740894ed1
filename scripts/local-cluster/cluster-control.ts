import { join } from 'node:path';
import { parseMetadata } from '@fleet/core/model';
import { LocalClusterError } from './cluster-error.js';
import { startMachine } from './cluster-parts.js';
import { readClusterState, writeState, type ClusterState, type MachineRecord } from './cluster-state.js';
import { startEtcd } from './etcd.js';
import { startFleetd, stopFleetd } from './fleetd-process.js';
import { seconds } from './paths.js';
import { isAlive, isRecordedAlive, pollUntil, recordProcess, stopProcess, type StopResult } from './processes.js';

// Operations on a cluster recorded in state.json, each acting only on the processes recorded
// there. Each checks everything it can before it changes anything, and refuses with a
// LocalClusterError saying why.

/** The cluster recorded in `dir`; a `NOT_UP` error when there is none. */
export function requireCluster(dir: string): ClusterState {
  const state = readClusterState(dir);
  if (state === undefined) throw new LocalClusterError('NOT_UP', `no local cluster in ${dir} (start one with npm run cluster:up)`);
  return state;
}

/** The machine called `name` (`m2`); a `USAGE` error naming the machines there are otherwise. */
export function machineNamed(state: ClusterState, name: string): MachineRecord {
  const m = state.machines.find((mm) => mm.name === name);
  if (m === undefined) throw new LocalClusterError('USAGE', `no machine ${JSON.stringify(name)} in the cluster in ${state.dir} (machines: ${machineNames(state)})`);
  return m;
}

/** The machine with this 1-based index; a `USAGE` error otherwise. */
export function machineAt(state: ClusterState, index: number): MachineRecord {
  const m = state.machines.find((mm) => mm.index === index);
  if (m === undefined) throw new LocalClusterError('USAGE', `no machine ${index} in the cluster in ${state.dir} (machines: ${machineNames(state)})`);
  return m;
}

/** Checks fleet's `k=v,k=v` metadata; a `USAGE` error naming the bad pair otherwise. */
export function checkMetadata(text: string): string {
  try {
    parseMetadata(text);
  } catch (err) {
    throw new LocalClusterError('USAGE', `bad metadata ${JSON.stringify(text)}: ${(err as Error).message}`, { cause: err });
  }
  return text;
}

/** The recorded PID of `m`'s fleetd while that process runs; a `NOT_RUNNING` error otherwise. */
export function runningFleetd(m: MachineRecord): number {
  if (m.fleetd === null || !isRecordedAlive(m.fleetd)) throw new LocalClusterError('NOT_RUNNING', `fleetd of ${m.name} is not running`);
  return m.fleetd.pid;
}

/** Sends `signal` to `m`'s fleetd (its recorded PID only) and resolves once that process is gone. */
export async function killFleetd(state: ClusterState, m: MachineRecord, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
  const pid = runningFleetd(m);
  process.kill(pid, signal);
  await pollUntil(`fleetd of ${m.name} (PID ${pid}) to exit after ${signal}`, () => (isAlive(pid) ? undefined : true), { timeoutMs: 15_000, intervalMs: 50 });
  m.fleetd = null;
  writeState(state);
  return pid;
}

/** Sends `signal` to `m`'s fleetd (its recorded PID only) and returns at once with that PID. */
export function signalFleetd(m: MachineRecord, signal: NodeJS.Signals): number {
  const pid = runningFleetd(m);
  process.kill(pid, signal);
  return pid;
}

/** Stops `m`'s fleetd gracefully: SIGTERM, SIGKILL after `graceMs`; says which ended it. */
export async function stopFleetdGracefully(state: ClusterState, m: MachineRecord, graceMs: number): Promise<{ pid: number; result: StopResult }> {
  const pid = runningFleetd(m);
  return { pid, result: await stopFleetd(state, m, graceMs) };
}

/** Starts `m`'s fleetd again with its recorded config (same machine ID, metadata and sockets). */
export async function startFleetdAgain(state: ClusterState, m: MachineRecord, log: (line: string) => void): Promise<number> {
  if (m.fleetd !== null && isRecordedAlive(m.fleetd)) throw new LocalClusterError('ALREADY_RUNNING', `fleetd of ${m.name} already runs (PID ${m.fleetd.pid})`);
  if (!isRecordedAlive(m.systemd)) throw new LocalClusterError('NOT_RUNNING', `systemd of ${m.name} (PID ${m.systemd.pid}) is not running: npm run cluster:down, then up`);
  if (!state.options.withFleetd) throw new LocalClusterError('USAGE', `the cluster in ${state.dir} was started without fleetd`);
  await startFleetd(state, m, log);
  if (m.fleetd === null) throw new Error(`fleetd of ${m.name} started but was not recorded`);
  return m.fleetd.pid;
}

/** A new machine `m<highest index + 1>` (new machine ID, systemd instance and fleetd) joins. */
export async function addMachine(state: ClusterState, metadata: string, log: (line: string) => void): Promise<MachineRecord> {
  checkMetadata(metadata);
  if (state.etcd === null || !isRecordedAlive(state.etcd.process)) throw new LocalClusterError('NOT_RUNNING', `etcd of the cluster in ${state.dir} is not running (npm run cluster -- etcd start)`);
  const index = Math.max(0, ...state.machines.map((m) => m.index)) + 1;
  // startMachine records the systemd and the fleetd in state.json as soon as each exists.
  return startMachine(state, index, metadata, log);
}

/** Stops the cluster's etcd (its recorded PID), keeping its data and its record for `startClusterEtcd`. */
export async function stopClusterEtcd(state: ClusterState): Promise<{ pid: number; result: StopResult }> {
  const etcd = state.etcd;
  if (etcd === null || !isRecordedAlive(etcd.process)) throw new LocalClusterError('NOT_RUNNING', `etcd of the cluster in ${state.dir} is not running`);
  return { pid: etcd.process.pid, result: await stopProcess(etcd.process.pid, 10_000) };
}

/** Starts the cluster's etcd again on the same client and peer URLs, with the data it had. */
export async function startClusterEtcd(state: ClusterState, log: (line: string) => void): Promise<number> {
  const etcd = state.etcd;
  if (etcd === null) throw new LocalClusterError('NOT_RUNNING', `the cluster in ${state.dir} records no etcd`);
  if (isRecordedAlive(etcd.process)) throw new LocalClusterError('ALREADY_RUNNING', `etcd of the cluster in ${state.dir} already runs (PID ${etcd.process.pid})`);
  if (etcd.peerUrl === undefined) throw new LocalClusterError('USAGE', `state.json of ${state.dir} predates etcd restarts (no peer URL recorded): npm run cluster:down, then up`);
  const t0 = Date.now();
  const ports = { client: Number(new URL(etcd.clientUrl).port), peer: Number(new URL(etcd.peerUrl).port) };
  const started = await startEtcd({ dir: join(state.dir, 'etcd'), logFile: etcd.logFile, name: state.name, enableV2: etcd.enableV2 === true, ports });
  etcd.process = recordProcess(started.process.pid);
  writeState(state);
  log(`etcd: ${etcd.clientUrl} (PID ${started.process.pid}) ready again in ${seconds(t0)}`);
  return started.process.pid;
}

function machineNames(state: ClusterState): string {
  return state.machines.length === 0 ? 'none' : state.machines.map((m) => m.name).join(', ');
}
