import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecordedAlive, type RecordedProcess } from './processes.js';

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
  /** Undefined while fleetd is not running (killed by `LocalCluster.killFleetd` in cluster.ts, or not started). */
  readonly fleetdPid: number | undefined;
  readonly systemdLog: string;
  readonly fleetdLog: string;
}

/** A machine as state.json records it: {@link LocalMachine} with its processes' identities. */
export interface MachineRecord extends Omit<LocalMachine, 'systemdPid' | 'fleetdPid'> {
  systemd: RecordedProcess;
  fleetd: RecordedProcess | null;
}

/**
 * Which fleetd the machines run: `ours` (this repository's) or `reference` (the original CoreOS
 * fleetd, from a folder holding its binaries).
 */
export type FleetdImplementation = 'ours' | 'reference';

/** The content of `<dir>/state.json`. */
export interface ClusterState {
  readonly version: 1;
  readonly name: string;
  readonly clusterId: string;
  readonly dir: string;
  readonly createdAt: string;
  readonly options: {
    agentTtl: string;
    engineReconcileInterval: number;
    withFleetd: boolean;
    fleetdBin: string;
    /** PEM files for every fleetd's TCP API (HTTPS; with `caFile`, client certificates required). */
    apiTls?: { certFile: string; keyFile: string; caFile?: string };
    /** fleet.conf lines that connect every fleetd to another etcd than the cluster's own (`etcd_servers`, TLS, credentials). */
    fleetdEtcd?: string[];
    /** Absent in state files written before the original fleetd could be run: `ours`. */
    implementation?: FleetdImplementation;
    /** With `implementation: 'reference'`: the absolute folder of the original fleetd and fleetctl. */
    referenceDir?: string;
  };
  /**
   * The cluster's etcd. `process` stays recorded after `etcd stop` (no longer alive), so that
   * `etcd start` brings it back on the same URLs and data. `peerUrl` and `enableV2` are absent in
   * older state files.
   */
  etcd: { clientUrl: string; peerUrl?: string; enableV2?: boolean; logFile: string; process: RecordedProcess } | null;
  /** null when no dockerd was started by this cluster. */
  dockerd: RecordedProcess | null;
  /**
   * The systemd-journald this cluster started; null when one already ran (reused, not owned).
   * Absent in state files written before the cluster started journald.
   */
  journald?: RecordedProcess | null | undefined;
  machines: MachineRecord[];
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

/** Writes state.json atomically (write then rename), so a reader never sees half a file. */
export function writeState(state: ClusterState): void {
  const file = join(state.dir, 'state.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Every recorded process of a cluster and whether it (the same process, not a reused PID) still runs. */
export function clusterLiveness(state: ClusterState): { what: string; pid: number; alive: boolean }[] {
  const out: { what: string; pid: number; alive: boolean }[] = [];
  const add = (what: string, p: RecordedProcess | null): void => {
    if (p !== null) out.push({ what, pid: p.pid, alive: isRecordedAlive(p) });
  };
  add('etcd', state.etcd?.process ?? null);
  add('dockerd', state.dockerd);
  add('journald', state.journald ?? null);
  for (const m of state.machines) {
    add(`${m.name} systemd`, m.systemd);
    add(`${m.name} fleetd`, m.fleetd);
  }
  return out;
}

/** The fleetd implementation of a recorded cluster (`ours` for state files that predate the choice). */
export function implementationOf(state: ClusterState): FleetdImplementation {
  return state.options.implementation ?? 'ours';
}

/** The public view of a recorded machine. */
export function toLocalMachine(record: MachineRecord): LocalMachine {
  const { systemd, fleetd, ...rest } = record;
  return { ...rest, systemdPid: systemd.pid, fleetdPid: fleetd?.pid };
}
