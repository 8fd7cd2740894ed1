import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBusyboxImage, ensureDocker, stopDockerd } from './docker.js';
import { freeLoopbackPorts, startEtcd } from './etcd.js';
import { isAlive, pollUntil, startDetached, stopProcess } from './processes.js';
import { removeCgroup, startSystemdUser, tail } from './systemd-user.js';

/** One simulated machine: a real `systemd --user` in its own cgroup plus one `fleetd`. */
export interface LocalMachine {
  /** 1-based. */
  readonly index: number;
  /** `m1`, `m2`, ...; also the machine's folder under the cluster dir. */
  readonly name: string;
  /** 32 lowercase hex digits, kept in `<dir>/<name>/machine-id` so a re-run keeps it. */
  readonly machineId: string;
  /** `127.0.1.<index>`: loopback, so it is reachable but never leaves the host. */
  readonly publicIp: string;
  /** fleet's `metadata=` value, e.g. `rack=r1` (may be empty). */
  readonly metadata: string;
  readonly unitsDirectory: string;
  /** `unix:path=<runtimeDir>/bus`, the bus of this machine's systemd. */
  readonly busAddress: string;
  readonly runtimeDir: string;
  /** Cgroup name (both hierarchies), unique per cluster: `fleet-<clusterId>-<name>`. */
  readonly cgroup: string;
  /** fleetd's API on a unix socket; fleetctl's `--endpoint unix://<apiSocket>`. */
  readonly apiSocket: string;
  /** fleetd's API on loopback TCP, `http://127.0.0.1:PORT`. */
  readonly apiUrl: string;
  readonly configFile: string;
  readonly systemdPid: number;
  /** Undefined while fleetd is not running (killed by {@link LocalCluster.killFleetd}, or not started). */
  readonly fleetdPid: number | undefined;
  readonly systemdLog: string;
  readonly fleetdLog: string;
}

/** A running local cluster; every process it started is recorded in `<dir>/state.json`. */
export interface LocalCluster {
  readonly dir: string;
  readonly clusterId: string;
  readonly etcd: { readonly clientUrl: string; readonly pid: number };
  /** Set only when this cluster started dockerd (an engine that already ran is reused, not owned). */
  readonly dockerPid: number | undefined;
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
  /** Progress lines ("etcd ready in 0.8 s"). Default: silent. */
  log?: (line: string) => void;
}

/** A process recorded with its start time, so a PID reused by an unrelated process is never signalled. */
export interface RecordedProcess {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot); null where /proc is unreadable. */
  readonly startTime: string | null;
}

/** A machine as state.json records it: {@link LocalMachine} with its processes' identities. */
export interface MachineRecord extends Omit<LocalMachine, 'systemdPid' | 'fleetdPid'> {
  systemd: RecordedProcess;
  fleetd: RecordedProcess | null;
}

/** The content of `<dir>/state.json`. */
export interface ClusterState {
  readonly version: 1;
  readonly name: string;
  readonly clusterId: string;
  readonly dir: string;
  readonly createdAt: string;
  readonly options: { agentTtl: string; engineReconcileInterval: number; withFleetd: boolean; fleetdBin: string };
  etcd: { clientUrl: string; logFile: string; process: RecordedProcess } | null;
  /** null when no dockerd was started by this cluster. */
  dockerd: RecordedProcess | null;
  machines: MachineRecord[];
}

const defaultMetadata = ['rack=r1', 'rack=r1', 'rack=r2'];
const fleetdReadyTimeoutMs = 30_000;
// Unix socket paths are limited to 108 bytes; systemd's and fleetd's sockets live in the cluster dir.
const maxSocketPath = 100;

/** Absolute path of the repository (the folder with `package.json` and `packages/`). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * Starts a local cluster in `opts.dir`: etcd (fresh data), the Docker engine (reused if one runs)
 * and the `fleet-busybox` image, then per machine a `systemd --user` and a `fleetd`, and resolves
 * once every fleetd lists its own machine. Every PID is written to `<dir>/state.json` as soon as it
 * exists, so {@link stopLocalCluster} can stop exactly those, from any process, even after a crash.
 * Throws (having stopped what it started) if any part fails, with the reason and the log tail.
 * Refuses to start over a cluster of the same dir whose processes still run.
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
    options: { agentTtl: opts.agentTtl ?? '10s', engineReconcileInterval: opts.engineReconcileInterval ?? 2, withFleetd, fleetdBin },
    etcd: null,
    dockerd: null,
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
 * `docker stop`; up to 30 s), then etcd, then dockerd if this cluster started it; removes the
 * cgroups and state.json. Succeeds when nothing runs. Returns one line per thing it stopped.
 * A PID whose start time no longer matches the record belongs to another process and is skipped.
 */
export async function stopLocalCluster(dir: string): Promise<string[]> {
  const state = readClusterState(resolve(dir));
  if (state === undefined) return [];
  return stopClusterState(state);
}

/** Reads `<dir>/state.json`; undefined when there is none. Throws if it exists but is unreadable. */
export function readClusterState(dir: string): ClusterState | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  let state: ClusterState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
  } catch (err) {
    throw new Error(`${file} is unreadable (${(err as Error).message}): check that none of the PIDs it names still run, then remove it`, { cause: err });
  }
  if (state.version !== 1) throw new Error(`${file}: unknown state version ${String(state.version)}`);
  return state;
}

/** Every recorded process of a cluster and whether it (the same process, not a reused PID) still runs. */
export function clusterLiveness(state: ClusterState): { what: string; pid: number; alive: boolean }[] {
  const out: { what: string; pid: number; alive: boolean }[] = [];
  const add = (what: string, p: RecordedProcess | null): void => {
    if (p !== null) out.push({ what, pid: p.pid, alive: isRecordedAlive(p) });
  };
  add('etcd', state.etcd?.process ?? null);
  add('dockerd', state.dockerd);
  for (const m of state.machines) {
    add(`${m.name} systemd`, m.systemd);
    add(`${m.name} fleetd`, m.fleetd);
  }
  return out;
}

/** The public view of a recorded machine. */
export function toLocalMachine(record: MachineRecord): LocalMachine {
  const { systemd, fleetd, ...rest } = record;
  return { ...rest, systemdPid: systemd.pid, fleetdPid: fleetd?.pid };
}

async function startSharedParts(state: ClusterState, log: (line: string) => void): Promise<void> {
  const etcdDir = join(state.dir, 'etcd');
  // A fresh store each time: a cluster that is started again begins empty, like `up` promises.
  rmSync(join(etcdDir, 'data'), { recursive: true, force: true });
  const t0 = Date.now();
  const [docker, etcd] = await Promise.allSettled([
    (async () => {
      const daemon = await ensureDocker({ dir: state.dir, logFile: join(state.dir, 'dockerd.log') });
      if (daemon.startedPid !== undefined) {
        state.dockerd = record(daemon.startedPid);
        writeState(state);
      }
      log(daemon.startedPid === undefined ? 'docker: reusing the running engine' : `docker: started dockerd PID ${daemon.startedPid} in ${seconds(t0)}`);
      const t1 = Date.now();
      const { built } = await ensureBusyboxImage();
      if (built) log(`docker: built image fleet-busybox:latest in ${seconds(t1)}`);
    })(),
    (async () => {
      const started = await startEtcd({ dir: etcdDir, logFile: join(etcdDir, 'etcd.log'), name: state.name });
      state.etcd = { clientUrl: started.clientUrl, logFile: started.process.logFile, process: record(started.process.pid) };
      writeState(state);
      log(`etcd: ${started.clientUrl} (PID ${started.process.pid}) ready in ${seconds(t0)}`);
    })(),
  ]);
  if (etcd.status === 'rejected') throw etcd.reason;
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
    apiUrl: `http://127.0.0.1:${apiPort}`,
    configFile: join(machineDir, 'fleetd.conf'),
    systemdLog: systemd.process.logFile,
    fleetdLog: join(machineDir, 'fleetd.log'),
    systemd: record(systemd.process.pid),
    fleetd: null,
  };
  state.machines.push(machine);
  writeState(state);
  log(`${name}: systemd --user PID ${systemd.process.pid} (cgroup ${cgroup}) ready in ${seconds(t0)}`);
  writeFileSync(machine.configFile, fleetdConfig(state, machine));
  if (state.options.withFleetd) await startFleetd(state, machine, log);
  return machine;
}

/** fleet's option names plus ours (see packages/agent's fleetd): one `key=value` per line. */
function fleetdConfig(state: ClusterState, m: MachineRecord): string {
  if (state.etcd === null) throw new Error('etcd must run before fleetd is configured');
  const lines = [
    `etcd_servers=${state.etcd.clientUrl}`,
    'etcd_key_prefix=/_coreos.com/fleet/',
    ...(m.metadata === '' ? [] : [`metadata=${m.metadata}`]),
    `public_ip=${m.publicIp}`,
    `agent_ttl=${state.options.agentTtl}`,
    `engine_reconcile_interval=${state.options.engineReconcileInterval}`,
    `units_directory=${m.unitsDirectory}`,
    `systemd_bus_address=${m.busAddress}`,
    `machine_id=${m.machineId}`,
    `api_socket=${m.apiSocket}`,
    `api_listen=${new URL(m.apiUrl).host}`,
    'verbosity=0',
  ];
  return `${lines.join('\n')}\n`;
}

async function startFleetd(state: ClusterState, m: MachineRecord, log: (line: string) => void): Promise<void> {
  rmSync(m.apiSocket, { force: true });
  const t0 = Date.now();
  const started = await startDetached(`fleetd:${m.name}`, process.execPath, [state.options.fleetdBin, '--config', m.configFile], {
    logFile: m.fleetdLog,
    cwd: repoRoot,
    // fleetd lets FLEET_<OPTION> variables override its config file; the file must be the whole truth.
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLEET_'))),
  });
  m.fleetd = record(started.pid);
  writeState(state);
  const outcome = await pollUntil(
    `fleetd of ${m.name} to list machine ${m.machineId} at ${m.apiSocket}`,
    async () => (!isAlive(started.pid) ? 'exited' : (await listsMachine(m.apiSocket, m.machineId)) ? 'ready' : undefined),
    { timeoutMs: fleetdReadyTimeoutMs, intervalMs: 100 },
  ).catch((err: unknown) => {
    throw new Error(`fleetd of ${m.name} did not become ready: ${(err as Error).message}\n--- ${m.fleetdLog} ---\n${tail(m.fleetdLog)}`, { cause: err });
  });
  if (outcome === 'exited') {
    m.fleetd = null;
    writeState(state);
    throw new Error(`fleetd of ${m.name} exited during startup\n--- ${m.fleetdLog} ---\n${tail(m.fleetdLog)}`);
  }
  log(`${m.name}: fleetd PID ${started.pid} (machine ${m.machineId}, ${m.metadata || 'no metadata'}) ready in ${seconds(t0)}`);
}

/** True when fleetd's `GET /fleet/v1/machines` on `socketPath` lists `machineId`. */
function listsMachine(socketPath: string, machineId: string): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const req = request({ socketPath, path: '/fleet/v1/machines', timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { machines?: { id?: unknown }[] };
          resolveCheck(res.statusCode === 200 && (parsed.machines ?? []).some((mm) => mm.id === machineId));
        } catch {
          resolveCheck(false);
        }
      });
      res.on('error', () => resolveCheck(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveCheck(false));
    req.end();
  });
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
    get machines() {
      return state.machines.map(toLocalMachine);
    },
    async addMachine(metadata = '') {
      const index = Math.max(0, ...state.machines.map((m) => m.index)) + 1;
      try {
        return toLocalMachine(await startMachine(state, index, metadata, log));
      } finally {
        writeState(state);
      }
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

async function stopClusterState(state: ClusterState): Promise<string[]> {
  const done: string[] = [];
  const errors: unknown[] = [];
  // Each step runs even if an earlier one failed: leaving a process behind is worse than a late error.
  const step = async (what: string, p: RecordedProcess | null, stop: (pid: number) => Promise<void>): Promise<void> => {
    if (p === null || !isRecordedAlive(p)) return;
    const t0 = Date.now();
    try {
      await stop(p.pid);
      done.push(`stopped ${what} (PID ${p.pid}) in ${seconds(t0)}`);
    } catch (err) {
      errors.push(new Error(`stopping ${what} (PID ${p.pid}) failed: ${(err as Error).message}`, { cause: err }));
    }
  };
  await Promise.all(state.machines.map((m) => step(`${m.name} fleetd`, m.fleetd, (pid) => stopProcess(pid, 10_000))));
  await Promise.all(state.machines.map((m) => step(`${m.name} systemd`, m.systemd, (pid) => stopProcess(pid, 30_000))));
  for (const m of state.machines) removeCgroup(m.cgroup);
  // etcd and dockerd are independent of each other (both take a few seconds to shut down cleanly).
  const stopDocker = async (p: RecordedProcess | null): Promise<void> => {
    if (p === null || !isRecordedAlive(p)) return;
    const t0 = Date.now();
    const outcome = await stopDockerd(p.pid).catch((err: unknown) => {
      errors.push(new Error(`stopping dockerd (PID ${p.pid}) failed: ${(err as Error).message}`, { cause: err }));
      return undefined;
    });
    if (outcome?.stopped === true) done.push(`stopped dockerd (PID ${p.pid}) in ${seconds(t0)}`);
    else if (outcome !== undefined) done.push(`left dockerd (PID ${p.pid}) running: ${outcome.reason}`);
  };
  await Promise.all([step('etcd', state.etcd?.process ?? null, (pid) => stopProcess(pid, 10_000)), stopDocker(state.dockerd)]);
  const left = clusterLiveness(state).filter((p) => p.alive && p.what !== 'dockerd');
  if (left.length === 0 && errors.length === 0) rmSync(join(state.dir, 'state.json'), { force: true });
  if (errors.length > 0) throw errors[0];
  return done;
}

function record(pid: number): RecordedProcess {
  return { pid, startTime: processStartTime(pid) };
}

function isRecordedAlive(p: RecordedProcess): boolean {
  if (!isAlive(p.pid)) return false;
  const now = processStartTime(p.pid);
  return p.startTime === null || now === null || now === p.startTime;
}

/** Field 22 (starttime) of /proc/PID/stat; the command name (field 2) may contain spaces, so split after its `)`. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Reads `<machineDir>/machine-id`, creating it (32 random lowercase hex digits) the first time. */
function machineIdFor(machineDir: string): string {
  const file = join(machineDir, 'machine-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  }
  const id = randomBytes(16).toString('hex');
  writeFileSync(file, `${id}\n`);
  return id;
}

/** Writes state.json atomically (write then rename), so a reader never sees half a file. */
function writeState(state: ClusterState): void {
  const file = join(state.dir, 'state.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'packages'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the repository root above ${from}`);
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
