import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot, startLocalCluster, type LocalCluster, type LocalClusterOptions, type LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { httpRequest } from '../../scripts/local-cluster/http.js';
import { fleetctlArgs } from '../../scripts/local-cluster/paths.js';
import { pollUntil } from '../../scripts/local-cluster/processes.js';

export { runningContainers } from '../../scripts/local-cluster/docker.js';
export { fleetctlArgs, pollUntil };
const exec = promisify(execFile);

/** The cluster of one test file (see {@link useTestCluster}). */
export interface TestCluster extends LocalCluster {
  /** Machine 1, whose API the tests talk to. */
  readonly m1: LocalMachine;
}

/**
 * A real local cluster for the tests of one file, in a fresh short temp dir (unix socket paths are
 * limited to ~100 bytes): started before them, stopped and removed after them. Read it only inside
 * tests and hooks.
 */
export function useTestCluster(opts: Partial<LocalClusterOptions> | (() => Partial<LocalClusterOptions>) = {}): TestCluster {
  let dir: string | undefined;
  let cluster: LocalCluster | undefined;
  beforeAll(async () => {
    dir = mkdtempSync('/tmp/fl-');
    // A function is read when the cluster starts: options that an earlier beforeAll made (an etcd's URLs).
    const options = typeof opts === 'function' ? opts() : opts;
    cluster = await startLocalCluster({ agentTtl: '5s', engineReconcileInterval: 1, name: 'test', ...options, dir });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const started = (): LocalCluster => {
    if (cluster === undefined) throw new Error('test cluster used outside a test');
    return cluster;
  };
  return {
    get dir() {
      return started().dir;
    },
    get clusterId() {
      return started().clusterId;
    },
    get etcd() {
      return started().etcd;
    },
    get dockerPid() {
      return started().dockerPid;
    },
    get journaldPid() {
      return started().journaldPid;
    },
    get machines() {
      return started().machines;
    },
    get m1() {
      const m = started().machines[0];
      if (m === undefined) throw new Error('the test cluster has no machine');
      return m;
    },
    addMachine: (metadata) => started().addMachine(metadata),
    killFleetd: (index, signal) => started().killFleetd(index, signal),
    restartFleetd: (index) => started().restartFleetd(index),
    stop: () => started().stop(),
  };
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real fleetctl binary against `machine`'s API socket. */
export async function fleetctl(machine: LocalMachine, ...args: string[]): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...fleetctlArgs(machine), ...args], { cwd: repoRoot, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs a fleetctl command that must succeed quietly (exit 0, nothing on stderr); returns its result. */
export async function fleetctlOk(machine: LocalMachine, ...args: string[]): Promise<CommandResult> {
  const result = await fleetctl(machine, ...args);
  if (result.code !== 0 || result.stderr !== '') {
    throw new Error(`fleetctl ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}

/** One HTTP request to a machine's API socket; the answer's body parsed as JSON (undefined when empty). */
export async function api(machine: LocalMachine, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await httpRequest({ socketPath: machine.apiSocket, path }, { method, body });
  return { status: res.status, body: res.body === '' ? undefined : JSON.parse(res.body) };
}

/** The API's `reason` for a unit (why it is not placed), or undefined. */
export async function reasonOf(machine: LocalMachine, unit: string): Promise<string | undefined> {
  const body = (await api(machine, 'GET', `/fleet/v1/units/${unit}`)).body as { reason?: string };
  return body.reason;
}

/** `systemctl --user ARGS` on one machine's own systemd; its stdout. */
async function systemctl(machine: LocalMachine, ...args: string[]): Promise<string> {
  const { stdout } = await exec('systemctl', ['--user', ...args], {
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: machine.busAddress, XDG_RUNTIME_DIR: machine.runtimeDir },
  });
  return stdout;
}

/** systemd's own view of a unit on one machine. */
export async function systemdState(machine: LocalMachine, unit: string): Promise<{ load: string; active: string; sub: string }> {
  const stdout = await systemctl(machine, 'show', '-p', 'LoadState,ActiveState,SubState', unit);
  const props = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
  return { load: props['LoadState'] ?? '', active: props['ActiveState'] ?? '', sub: props['SubState'] ?? '' };
}

/** systemd's MainPID of a unit on one machine (0 when not running). */
export async function mainPid(machine: LocalMachine, unit: string): Promise<number> {
  return Number((await systemctl(machine, 'show', '-p', 'MainPID', '--value', unit)).trim());
}

/** Machines on which systemd runs `unit` (`active running`). */
export async function machinesRunning(cluster: LocalCluster, unit: string, among = cluster.machines): Promise<LocalMachine[]> {
  const states = await Promise.all(among.map(async (m) => ({ m, s: await systemdState(m, unit) })));
  return states.filter(({ s }) => s.active === 'active' && s.sub === 'running').map(({ m }) => m);
}

/** systemd's MainPID of each named unit on each machine that runs it, keyed `${unit}@${machine name}`. */
export async function unitMainPids(cluster: LocalCluster, units: readonly string[], among = cluster.machines): Promise<Map<string, number>> {
  const pids = new Map<string, number>();
  for (const unit of units) {
    for (const m of await machinesRunning(cluster, unit, among)) pids.set(`${unit}@${m.name}`, await mainPid(m, unit));
  }
  return pids;
}

/** Where each named unit runs (machine name), read from the machines' own systemd. */
export async function hostsOf(cluster: LocalCluster, units: readonly string[], among = cluster.machines): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const unit of units) out.set(unit, (await machinesRunning(cluster, unit, among)).map((m) => m.name));
  return out;
}

/** Where the cluster's fleetd logs are, to append to a failure message. */
export function clusterLogs(cluster: LocalCluster): string {
  return cluster.machines.map((m) => `--- ${m.name} fleetd log: ${m.fleetdLog}`).join('\n');
}

export const examplesDir = join(repoRoot, 'examples');

/** Writes a `/bin/sleep` unit with the given `[X-Fleet]` lines (none by default) into `dir`; returns its path. */
export function fleetUnit(dir: string, name: string, xfleet: readonly string[] = []): string {
  const path = join(dir, name);
  const section = xfleet.length === 0 ? '' : `\n[X-Fleet]\n${xfleet.join('\n')}\n`;
  writeFileSync(path, `[Unit]\nDescription=${name}\n\n[Service]\nExecStart=/bin/sleep 100000\n${section}`);
  return path;
}

/**
 * Writes `<dir>/<name>`: a unit that appends `start <ns> <cgroup>` to `log` when its process starts
 * and `stop <ns> <cgroup>` once it has exited (ExecStopPost), for {@link lifeOn}: systemd forgets a
 * stopped unit's timestamps when it unloads it. Returns the file's path.
 */
export function lifeLoggingUnit(dir: string, name: string, log: string, xfleet: readonly string[] = []): string {
  const path = join(dir, name);
  const line = (what: string): string => `/bin/sh -c 'echo "${what} $$(date +%%s%%N) $$(cat /proc/self/cgroup)" >> ${log}'`;
  const fleet = xfleet.length === 0 ? '' : `[X-Fleet]\n${xfleet.join('\n')}\n`;
  writeFileSync(path, `[Service]\nExecStartPre=${line('start')}\nExecStart=/bin/sleep 100000\nExecStopPost=${line('stop')}\n${fleet}`);
  return path;
}

/** When (ms since the epoch) a {@link lifeLoggingUnit}'s process last started and stopped on `machine`, from its log. */
export function lifeOn(log: string, machine: LocalMachine): { start?: number; stop?: number } {
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  const out: { start?: number; stop?: number } = {};
  for (const l of text.trim().split('\n')) {
    const [what, ns, cgroup] = l.split(' ');
    if (cgroup === undefined || !cgroup.includes(`-${machine.name}/`)) continue;
    if (what === 'start' || what === 'stop') out[what] = Number(BigInt(ns ?? '0') / 1_000_000n);
  }
  return out;
}
