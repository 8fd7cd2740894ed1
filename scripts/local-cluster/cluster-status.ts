import { clusterLiveness, implementationOf, type ClusterState, type FleetdImplementation } from './cluster-state.js';
import { isRecordedAlive, type RecordedProcess } from './processes.js';

/** A recorded process and whether it (the same process, not a reused PID) still runs. */
export interface ProcessStatus {
  readonly pid: number;
  readonly alive: boolean;
}

/** One machine in {@link ClusterStatus}. */
export interface MachineStatus {
  readonly name: string;
  readonly index: number;
  readonly machineId: string;
  readonly publicIp: string;
  /** fleet's `k=v,k=v` text, as configured (may be empty). */
  readonly metadata: string;
  readonly apiSocket: string;
  /** `unix://<apiSocket>`: what `--endpoint` and `FLEETCTL_ENDPOINT` take. */
  readonly endpoint: string;
  readonly apiUrl: string;
  readonly busAddress: string;
  readonly runtimeDir: string;
  readonly unitsDirectory: string;
  readonly systemd: ProcessStatus;
  /** null while no fleetd is recorded (killed, stopped, or never started). */
  readonly fleetd: ProcessStatus | null;
  readonly logs: { readonly fleetd: string; readonly systemd: string };
}

/** What `status --output json` prints: the cluster as state.json records it, with liveness. */
export interface ClusterStatus {
  readonly dir: string;
  readonly name: string;
  readonly clusterId: string;
  readonly createdAt: string;
  readonly implementation: FleetdImplementation;
  readonly referenceDir: string | null;
  readonly agentTtl: string;
  readonly engineReconcileInterval: number;
  /** True when every recorded process runs. */
  readonly up: boolean;
  readonly etcd: (ProcessStatus & { readonly clientUrl: string; readonly v2: boolean }) | null;
  /** null when the cluster reuses an engine (or journald) it did not start. */
  readonly dockerd: ProcessStatus | null;
  readonly journald: ProcessStatus | null;
  /** Every recorded process, named as in `down`'s output (`etcd`, `m1 systemd`, `m1 fleetd`, ...). */
  readonly processes: readonly (ProcessStatus & { readonly what: string })[];
  readonly machines: readonly MachineStatus[];
}

/** The status of the cluster recorded in `state`, each process checked now. */
export function clusterStatus(state: ClusterState): ClusterStatus {
  const processes = clusterLiveness(state);
  const of = (p: RecordedProcess | null | undefined): ProcessStatus | null => (p == null ? null : { pid: p.pid, alive: isRecordedAlive(p) });
  const etcd = state.etcd;
  return {
    dir: state.dir,
    name: state.name,
    clusterId: state.clusterId,
    createdAt: state.createdAt,
    implementation: implementationOf(state),
    referenceDir: state.options.referenceDir ?? null,
    agentTtl: state.options.agentTtl,
    engineReconcileInterval: state.options.engineReconcileInterval,
    up: processes.length > 0 && processes.every((p) => p.alive),
    etcd: etcd === null ? null : { clientUrl: etcd.clientUrl, v2: etcd.enableV2 === true, pid: etcd.process.pid, alive: isRecordedAlive(etcd.process) },
    dockerd: of(state.dockerd),
    journald: of(state.journald),
    processes,
    machines: state.machines.map((m) => ({
      name: m.name,
      index: m.index,
      machineId: m.machineId,
      publicIp: m.publicIp,
      metadata: m.metadata,
      apiSocket: m.apiSocket,
      endpoint: `unix://${m.apiSocket}`,
      apiUrl: m.apiUrl,
      busAddress: m.busAddress,
      runtimeDir: m.runtimeDir,
      unitsDirectory: m.unitsDirectory,
      systemd: { pid: m.systemd.pid, alive: isRecordedAlive(m.systemd) },
      fleetd: of(m.fleetd),
      logs: { fleetd: m.fleetdLog, systemd: m.systemdLog },
    })),
  };
}

/** The status as the text table `status` prints. */
export function statusLines(status: ClusterStatus): string[] {
  const pid = (p: ProcessStatus | null): string => (p === null ? '-' : `${p.pid} (${p.alive ? 'running' : 'gone'})`);
  const fleetd = status.implementation === 'reference' ? `the original fleetd from ${status.referenceDir ?? '?'}` : 'our fleetd';
  const lines = [
    `cluster ${status.name} (id ${status.clusterId}) in ${status.dir}, started ${status.createdAt}, running ${fleetd}`,
    `  etcd     ${status.etcd?.clientUrl ?? '-'}  PID ${pid(status.etcd)}`,
    `  dockerd  ${status.dockerd === null ? 'an engine that already ran (not owned by this cluster)' : `PID ${pid(status.dockerd)}`}`,
  ];
  const rows = [['MACHINE', 'MACHINE ID', 'IP', 'METADATA', 'SYSTEMD PID', 'FLEETD PID', 'API']];
  for (const m of status.machines) rows.push([m.name, m.machineId, m.publicIp, m.metadata || '-', pid(m.systemd), pid(m.fleetd), m.apiUrl]);
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  for (const r of rows) lines.push(`  ${r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()}`);
  return lines;
}
