import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clusterLiveness, readClusterState, toLocalMachine, writeState, type ClusterState, type LocalMachine, type MachineRecord } from './cluster-state.js';
import { ensureBusyboxImage, ensureDocker, stopDockerd } from './docker.js';
import { freeLoopbackPorts, startEtcd } from './etcd.js';
import { ensureJournald, stopJournald } from './journald.js';
import { fleetdConfig, machineIdFor, startFleetd } from './fleetd-process.js';
import { repoRoot, seconds } from './paths.js';
import { isAlive, isRecordedAlive, pollUntil, recordProcess, stopProcess, type RecordedProcess } from './processes.js';
import { removeCgroup, removeCgroupWhenEmpty, startSystemdUser } from './systemd-user.js';

export { clusterLiveness, readClusterState, toLocalMachine } from './cluster-state.js';
export type { ClusterState, LocalMachine } from './cluster-state.js';
export { repoRoot } from './paths.js';

/** A running local cluster; every process it started is recorded in `<dir>/state.json`. */
export interface LocalCluster {
  readonly dir: string;
  readonly clusterId: string;
  readonly etcd: { readonly clientUrl: string; readonly pid: number };
  /** Set only when this cluster started dockerd (an engine that already ran is reused, not owned). */
  readonly dockerPid: number | undefined;
  /** Set only when this cluster started systemd-journald (one that already ran is reused, not owned). */
  readonly journaldPid: number | undefined;
  readonly machines: readonly LocalMachine[];
  /** Starts one more machine (systemd + fleetd) and waits until its fleetd answers. */
  addMachine(metadata?: string): Promise<LocalMachine>;
  /** Signals machine `index`'s fleetd (default SIGKILL, a crash) and waits until it is gone. */
  killFleetd(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Stops machine `index`'s fleetd if it runs (SIGTERM), starts it again, waits until it answers. */
  restartFleetd(index: number): Promise<LocalMachine>;
  /** Same as {@link stopLocalCluster} on this cluster's dir. */
  stop(): Promise<string[]>;
}

/** Options of {@link startLocalCluster}. */
export interface LocalClusterOptions {
  /** Cluster folder: state.json, logs, machine ids, sockets. Created if missing. */
  dir: string;
  /** Default 3. */
  machines?: number;
  /** Per machine, by position. Default `['rack=r1', 'rack=r1', 'rack=r2']`; empty past the end. */
  metadata?: readonly string[];
  /** fleet's `agent_ttl`. Default `10s`. */
  agentTtl?: string;
  /** fleet's `engine_reconcile_interval`, in seconds. Default 2. */
  engineReconcileInterval?: number;
  /** etcd member name and label in status output. Default `local`. */
  name?: string;
  /** Start fleetd on every machine. Default true; false gives the bare infrastructure (tests of it). */
  withFleetd?: boolean;
  /** Path of fleetd's entry point. Default `<repo>/packages/agent/dist/bin/fleetd.js`. */
  fleetdBin?: string;
  /** Serve every fleetd's TCP API over HTTPS with these PEM files (with `caFile`: mutual TLS). */
  apiTls?: { certFile: string; keyFile: string; caFile?: string };
  /** Progress lines ("etcd ready in 0.8 s"). Default: silent. */
  log?: (line: string) => void;
}

const defaultMetadata = ['rack=r1', 'rack=r1', 'rack=r2'];
// Unix socket paths are limited to 108 bytes; systemd's and fleetd's sockets live in the cluster dir.
const maxSocketPath = 100;

/**
 * Starts a local cluster in `opts.dir`: etcd (fresh data), the Docker engine (reused if one runs)
 * and the `fleet-busybox` image, systemd-journald (reused if one runs; it must be up before the
 * systemd instances, or their units log nowhere), then per machine a `systemd --user` and a
 * `fleetd`, and resolves once every fleetd lists its own machine. Every PID is written to
 * `<dir>/state.json` as soon as it exists, so {@link stopLocalCluster} can stop exactly those,
 * from any process, even after a crash. Throws (having stopped what it started) if any part
 * fails, with the reason and the log tail. Refuses to start over a cluster of the same dir whose
 * processes still run.
 */
export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? (() => {});
  mkdirSync(dir, { recursive: true });
  const previous = readClusterState(dir);
  if (previous !== undefined) {
    const alive = clusterLiveness(previous).filter((p) => p.alive);
    if (alive.length > 0) {
      throw new Error(`a cluster already runs in ${dir} (${alive.map((p) => `${p.what} PID ${p.pid}`).join(', ')}); stop it first (npm run cluster:down)`);
    }
    // Everything died (e.g. a reboot or a SIGKILLed runner): only its cgroups can be left over.
    for (const m of previous.machines) removeCgroup(m.cgroup);
  }
  const withFleetd = opts.withFleetd ?? true;
  const fleetdBin = resolve(opts.fleetdBin ?? join(repoRoot, 'packages/agent/dist/bin/fleetd.js'));
  if (withFleetd && !existsSync(fleetdBin)) {
    throw new Error(`fleetd is not built: ${fleetdBin} does not exist (run npm run build)`);
  }
  const state: ClusterState = {
    version: 1,
    name: opts.name ?? 'local',
    clusterId: randomBytes(3).toString('hex'),
    dir,
    createdAt: new Date().toISOString(),
    options: {
      agentTtl: opts.agentTtl ?? '10s',
      engineReconcileInterval: opts.engineReconcileInterval ?? 2,
      withFleetd,
      fleetdBin,
      ...(opts.apiTls === undefined ? {} : { apiTls: opts.apiTls }),
    },
    etcd: null,
    dockerd: null,
    journald: null,
    machines: [],
  };
  writeState(state);
  try {
    await startSharedParts(state, log);
    const count = opts.machines ?? 3;
    const metadata = opts.metadata ?? defaultMetadata;
    // allSettled, not all: on a failure the other machines must finish starting (and be recorded)
    // before everything is stopped, or a systemd that comes up late would be left behind.
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => startMachine(state, i + 1, metadata[i] ?? '', log)),
    );
    // Recorded in index order whatever order they came up in.
    state.machines.sort((a, b) => a.index - b.index);
    writeState(state);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } catch (err) {
    await stopClusterState(state).catch(() => []);
    throw err;
  }
  return clusterHandle(state, log);
}

/**
 * Stops exactly the processes recorded in `<dir>/state.json`: fleetds (SIGTERM), then the systemd
 * instances (SIGTERM: systemd stops its units first, which runs their ExecStop such as
 * `docker stop`; up to 30 s), then etcd, then dockerd and journald if this cluster started them;
 * removes the cgroups and state.json. Succeeds when nothing runs. Returns one line per thing it
 * stopped (or left running, and why).
 *
 * dockerd and journald are shared with whatever else runs on the machine (a demo cluster, a test
 * run that reused them): each is stopped only if this cluster started it AND nobody else uses it
 * any more (no container runs; no unit output stream is still connected to journald). Otherwise
 * it is left running, unrecorded once state.json is gone; the next cluster reuses it.
 * A PID whose start time no longer matches the record belongs to another process and is skipped.
 */
export async function stopLocalCluster(dir: string): Promise<string[]> {
  const state = readClusterState(resolve(dir));
  if (state === undefined) return [];
  return stopClusterState(state);
}

async function startSharedParts(state: ClusterState, log: (line: string) => void): Promise<void> {
  const etcdDir = join(state.dir, 'etcd');
  // A fresh store each time: a cluster that is started again begins empty, like `up` promises.
  rmSync(join(etcdDir, 'data'), { recursive: true, force: true });
  const t0 = Date.now();
  const [docker, etcd, journald] = await Promise.allSettled([
    (async () => {
      const daemon = await ensureDocker({ dir: state.dir, logFile: join(state.dir, 'dockerd.log') });
      if (daemon.startedPid !== undefined) {
        state.dockerd = recordProcess(daemon.startedPid);
        writeState(state);
      }
      log(daemon.startedPid === undefined ? 'docker: reusing the running engine' : `docker: started dockerd PID ${daemon.startedPid} in ${seconds(t0)}`);
      const t1 = Date.now();
      const { built } = await ensureBusyboxImage();
      if (built) log(`docker: built image fleet-busybox:latest in ${seconds(t1)}`);
    })(),
    (async () => {
      const started = await startEtcd({ dir: etcdDir, logFile: join(etcdDir, 'etcd.log'), name: state.name });
      state.etcd = { clientUrl: started.clientUrl, logFile: started.process.logFile, process: recordProcess(started.process.pid) };
      writeState(state);
      log(`etcd: ${started.clientUrl} (PID ${started.process.pid}) ready in ${seconds(t0)}`);
    })(),
    (async () => {
      // Before any systemd instance: a unit started while no journald runs logs nowhere, for good.
      const daemon = await ensureJournald({ logFile: join(state.dir, 'journald.log') });
      if (daemon.startedPid !== undefined) {
        state.journald = recordProcess(daemon.startedPid);
        writeState(state);
      }
      log(daemon.startedPid === undefined ? 'journald: reusing the running one' : `journald: started PID ${daemon.startedPid} in ${seconds(t0)}`);
    })(),
  ]);
  if (etcd.status === 'rejected') throw etcd.reason;
  if (journald.status === 'rejected') throw journald.reason;
  if (docker.status === 'rejected') throw docker.reason;
}

async function startMachine(state: ClusterState, index: number, metadata: string, log: (line: string) => void): Promise<MachineRecord> {
  const name = `m${index}`;
  const machineDir = join(state.dir, name);
  const runtimeDir = join(machineDir, 'runtime');
  const apiSocket = join(machineDir, 'fleet.sock');
  for (const socket of [join(runtimeDir, 'bus'), join(runtimeDir, 'systemd', 'private'), apiSocket]) {
    if (socket.length > maxSocketPath) {
      throw new Error(`socket path too long for a unix socket (${socket.length} > ${maxSocketPath} bytes): ${socket}; use a shorter cluster dir`);
    }
  }
  mkdirSync(machineDir, { recursive: true });
  // A runtime dir left by a previous run may hold stale sockets; systemd recreates what it needs.
  rmSync(runtimeDir, { recursive: true, force: true });
  rmSync(apiSocket, { force: true });
  const unitsDirectory = join(machineDir, 'units');
  mkdirSync(unitsDirectory, { recursive: true });
  const [apiPort] = await freeLoopbackPorts(1);
  if (apiPort === undefined) throw new Error('the OS gave no free port');
  const cgroup = `fleet-${state.clusterId}-${name}`;
  const t0 = Date.now();
  const systemd = await startSystemdUser({ runtimeDir, cgroup, logFile: join(machineDir, 'systemd.log') });
  const machine: MachineRecord = {
    index,
    name,
    machineId: machineIdFor(machineDir),
    publicIp: `127.0.1.${index}`,
    metadata,
    unitsDirectory,
    busAddress: systemd.busAddress,
    runtimeDir,
    cgroup,
    apiSocket,
    apiUrl: `${state.options.apiTls === undefined ? 'http' : 'https'}://127.0.0.1:${apiPort}`,
    configFile: join(machineDir, 'fleetd.conf'),
    systemdLog: systemd.process.logFile,
    fleetdLog: join(machineDir, 'fleetd.log'),
    systemd: recordProcess(systemd.process.pid),
    fleetd: null,
  };
  state.machines.push(machine);
  writeState(state);
  log(`${name}: systemd --user PID ${systemd.process.pid} (cgroup ${cgroup}) ready in ${seconds(t0)}`);
  writeFileSync(machine.configFile, fleetdConfig(state, machine));
  if (state.options.withFleetd) await startFleetd(state, machine, log);
  return machine;
}

function clusterHandle(state: ClusterState, log: (line: string) => void): LocalCluster {
  const machineAt = (index: number): MachineRecord => {
    const m = state.machines.find((mm) => mm.index === index);
    if (m === undefined) throw new Error(`no machine ${index} in cluster ${state.dir} (machines: ${state.machines.map((mm) => mm.index).join(', ')})`);
    return m;
  };
  const etcd = state.etcd;
  if (etcd === null) throw new Error('cluster started without etcd');
  return {
    dir: state.dir,
    clusterId: state.clusterId,
    etcd: { clientUrl: etcd.clientUrl, pid: etcd.process.pid },
    dockerPid: state.dockerd?.pid,
    journaldPid: state.journald?.pid,
    get machines() {
      return state.machines.map(toLocalMachine);
    },
    async addMachine(metadata = '') {
      // startMachine (and startFleetd) write state.json as soon as each process exists.
      const index = Math.max(0, ...state.machines.map((m) => m.index)) + 1;
      return toLocalMachine(await startMachine(state, index, metadata, log));
    },
    async killFleetd(index, signal = 'SIGKILL') {
      const m = machineAt(index);
      if (m.fleetd === null || !isRecordedAlive(m.fleetd)) throw new Error(`fleetd of ${m.name} is not running`);
      const pid = m.fleetd.pid;
      process.kill(pid, signal);
      await pollUntil(`fleetd of ${m.name} (PID ${pid}) to exit after ${signal}`, () => (isAlive(pid) ? undefined : true), { timeoutMs: 15_000, intervalMs: 50 });
      m.fleetd = null;
      writeState(state);
    },
    async restartFleetd(index) {
      const m = machineAt(index);
      if (m.fleetd !== null && isRecordedAlive(m.fleetd)) await stopProcess(m.fleetd.pid, 10_000);
      m.fleetd = null;
      writeState(state);
      await startFleetd(state, m, log);
      return toLocalMachine(m);
    },
    stop: () => stopClusterState(state),
  };
}

type StopOutcome = Awaited<ReturnType<typeof stopDockerd>>;

async function stopClusterState(state: ClusterState): Promise<string[]> {
  const done: string[] = [];
  const errors: unknown[] = [];
  // Each step runs even if an earlier one failed: leaving a process behind is worse than a late error.
  const step = async (what: string, p: RecordedProcess | null, stop: (pid: number) => Promise<StopOutcome>): Promise<void> => {
    if (p === null || !isRecordedAlive(p)) return;
    const t0 = Date.now();
    const outcome = await stop(p.pid).catch((err: unknown) => {
      errors.push(new Error(`stopping ${what} (PID ${p.pid}) failed: ${(err as Error).message}`, { cause: err }));
      return undefined;
    });
    if (outcome?.stopped === true) done.push(`stopped ${what} (PID ${p.pid}) in ${seconds(t0)}`);
    else if (outcome !== undefined) done.push(`left ${what} (PID ${p.pid}) running: ${outcome.reason}`);
  };
  const terminate = (graceMs: number) => async (pid: number): Promise<StopOutcome> => {
    await stopProcess(pid, graceMs);
    return { stopped: true };
  };
  await Promise.all(state.machines.map((m) => step(`${m.name} fleetd`, m.fleetd, terminate(10_000))));
  await Promise.all(state.machines.map((m) => step(`${m.name} systemd`, m.systemd, terminate(30_000))));
  const leftCgroups = (await Promise.all(state.machines.map(async (m) => ((await removeCgroupWhenEmpty(m.cgroup)) ? undefined : m.cgroup)))).filter((c) => c !== undefined);
  if (leftCgroups.length > 0) done.push(`left cgroup(s) ${leftCgroups.join(', ')}: processes still in them`);
  // etcd, dockerd and journald are independent of each other (each takes a few seconds to shut down
  // cleanly). dockerd and journald are shared: stopDockerd and stopJournald leave them running, and
  // say why, while others use them; journald comes after the systemd instances, whose units' output
  // streams are closed by now.
  await Promise.all([
    step('etcd', state.etcd?.process ?? null, terminate(10_000)),
    step('dockerd', state.dockerd, stopDockerd),
    step('journald', state.journald ?? null, stopJournald),
  ]);
  const shared = new Set(['dockerd', 'journald']);
  const left = clusterLiveness(state).filter((p) => p.alive && !shared.has(p.what));
  if (left.length === 0 && errors.length === 0) rmSync(join(state.dir, 'state.json'), { force: true });
  if (errors.length > 0) throw errors[0];
  return done;
}
