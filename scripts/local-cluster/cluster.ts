import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { addMachine, checkMetadata, killFleetd, machineAt, startFleetdAgain } from './cluster-control.js';
import { LocalClusterError } from './cluster-error.js';
import { startMachine, startSharedParts } from './cluster-parts.js';
import { clusterLiveness, readClusterState, toLocalMachine, writeState, type ClusterState, type FleetdImplementation, type LocalMachine } from './cluster-state.js';
import { stopClusterState } from './cluster-stop.js';
import { stopFleetd } from './fleetd-process.js';
import { repoRoot } from './paths.js';
import { checkReferenceDir, referenceFleetDir } from './reference-fleet.js';
import { removeCgroup } from './systemd-user.js';

export { clusterLiveness, implementationOf, readClusterState, toLocalMachine } from './cluster-state.js';
export type { ClusterState, FleetdImplementation, LocalMachine } from './cluster-state.js';
export { LocalClusterError } from './cluster-error.js';
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
  /** Path of our fleetd's entry point. Default `<repo>/packages/fleetd/dist/bin/fleetd.js`. */
  fleetdBin?: string;
  /**
   * Which fleetd the machines run: `ours` (default) or `reference`, the ORIGINAL CoreOS fleetd (its
   * etcd then serves the v2 API; `apiTls` is not available).
   */
  implementation?: FleetdImplementation;
  /**
   * With `implementation: 'reference'`: the folder holding the original `fleetd` and `fleetctl`
   * (relative: to the repository root). Default: `FLEET_REFERENCE_DIR` (see reference-fleet.ts).
   */
  referenceDir?: string;
  /** Serve every fleetd's TCP API over HTTPS with these PEM files (with `caFile`: mutual TLS). */
  apiTls?: { certFile: string; keyFile: string; caFile?: string };
  /**
   * Connect every fleetd to this etcd instead of the cluster's own one-member etcd (which still
   * runs): fleet.conf lines naming `etcd_servers` and any TLS files and credentials, e.g. the
   * `fleetdConfig` of etcd-members.ts's `startEtcdMembers`. Not with the original fleetd.
   */
  fleetdEtcd?: readonly string[];
  /** Progress lines ("etcd ready in 0.8 s"). Default: silent. */
  log?: (line: string) => void;
}

const defaultMetadata = ['rack=r1', 'rack=r1', 'rack=r2'];

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
  const implementation = opts.implementation ?? 'ours';
  const referenceDir = implementation === 'reference' ? requireReferenceDir(opts) : undefined;
  const count = opts.machines ?? 3;
  const metadata = opts.metadata ?? defaultMetadata;
  for (const text of metadata.slice(0, count)) checkMetadata(text);
  mkdirSync(dir, { recursive: true });
  const previous = readClusterState(dir);
  if (previous !== undefined) {
    const alive = clusterLiveness(previous).filter((p) => p.alive);
    if (alive.length > 0) {
      throw new LocalClusterError('ALREADY_RUNNING', `a cluster already runs in ${dir} (${alive.map((p) => `${p.what} PID ${p.pid}`).join(', ')}); stop it first (npm run cluster:down)`);
    }
    // Everything died (e.g. a reboot or a SIGKILLed runner): only its cgroups can be left over.
    for (const m of previous.machines) removeCgroup(m.cgroup);
  }
  const withFleetd = opts.withFleetd ?? true;
  const fleetdBin = resolve(opts.fleetdBin ?? join(repoRoot, 'packages/fleetd/dist/bin/fleetd.js'));
  if (withFleetd && implementation === 'ours' && !existsSync(fleetdBin)) {
    throw new LocalClusterError('UNAVAILABLE', `fleetd is not built: ${fleetdBin} does not exist (run npm run build)`);
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
      ...(opts.fleetdEtcd === undefined ? {} : { fleetdEtcd: [...opts.fleetdEtcd] }),
      implementation,
      ...(referenceDir === undefined ? {} : { referenceDir }),
    },
    etcd: null,
    dockerd: null,
    journald: null,
    machines: [],
  };
  writeState(state);
  try {
    await startSharedParts(state, log);
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
 * Stops exactly the processes recorded in `<dir>/state.json`: fleetds (SIGTERM; SIGKILL after
 * 10 s for ours, 5 s for the original, which stops and unloads its units first, about one a second,
 * and whose leftover units are then stopped through systemd), then the systemd instances
 * (SIGTERM: systemd stops its units first, which runs their ExecStop such as `docker stop`; up to
 * 30 s), then etcd, then dockerd and journald if this cluster started them;
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

/**
 * A handle on the cluster recorded in `dir` (started by another process, e.g. `npm run
 * cluster:up`); undefined when none is recorded there.
 */
export function openLocalCluster(dir: string, log: (line: string) => void = () => {}): LocalCluster | undefined {
  const state = readClusterState(resolve(dir));
  return state === undefined ? undefined : clusterHandle(state, log);
}

function requireReferenceDir(opts: LocalClusterOptions): string {
  if (opts.apiTls !== undefined) throw new LocalClusterError('USAGE', 'apiTls is not available with the original fleetd (implementation: reference)');
  if (opts.fleetdEtcd !== undefined) throw new LocalClusterError('USAGE', 'fleetdEtcd is not available with the original fleetd (implementation: reference)');
  const found = opts.referenceDir === undefined ? referenceFleetDir() : checkReferenceDir(opts.referenceDir, `referenceDir ${opts.referenceDir}`);
  if (!found.ok) throw new LocalClusterError('UNAVAILABLE', found.why);
  return found.dir;
}

function clusterHandle(initial: ClusterState, log: (line: string) => void): LocalCluster {
  let last = initial;
  // state.json is the truth: the CLI's verbs, run from another process, may have changed the
  // cluster since this handle last looked.
  const current = (): ClusterState => (last = readClusterState(initial.dir) ?? last);
  return {
    dir: initial.dir,
    clusterId: initial.clusterId,
    get etcd() {
      const etcd = current().etcd;
      if (etcd === null) throw new Error(`cluster ${initial.dir} started without etcd`);
      return { clientUrl: etcd.clientUrl, pid: etcd.process.pid };
    },
    get dockerPid() {
      return current().dockerd?.pid;
    },
    get journaldPid() {
      return current().journald?.pid;
    },
    get machines() {
      return current().machines.map(toLocalMachine);
    },
    addMachine: async (metadata = '') => toLocalMachine(await addMachine(current(), metadata, log)),
    killFleetd: async (index, signal = 'SIGKILL') => {
      const state = current();
      await killFleetd(state, machineAt(state, index), signal);
    },
    restartFleetd: async (index) => {
      const state = current();
      const m = machineAt(state, index);
      await stopFleetd(state, m);
      await startFleetdAgain(state, m, log);
      return toLocalMachine(m);
    },
    stop: () => stopClusterState(current()),
  };
}
