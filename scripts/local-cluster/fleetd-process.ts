import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { implementationOf, writeState, type ClusterState, type MachineRecord } from './cluster-state.js';
import { repoRoot, seconds } from './paths.js';
import { httpRequest } from './http.js';
import { isAlive, isRecordedAlive, pollUntil, recordProcess, startDetached, stopProcess, tail, type StopResult } from './processes.js';
import { referenceFleetConfig, referenceFleetdLaunch } from './reference-fleet.js';

const fleetdReadyTimeoutMs = 30_000;
/**
 * How long a SIGTERMed fleetd gets before SIGKILL when a whole cluster stops. Ours exits at once
 * (its units keep running); the original stops and unloads its units first, about one a second,
 * and whatever it leaves is stopped through systemd afterwards.
 */
const stopGraceMs = { ours: 10_000, reference: 5_000 } as const;

/** The name of machine `m`'s config file in its folder, per implementation (formats differ). */
export function fleetdConfigName(state: ClusterState): string {
  return implementationOf(state) === 'reference' ? 'fleet.conf' : 'fleetd.conf';
}

/** Machine `m`'s fleetd config, in the format of the cluster's fleetd implementation. */
export function fleetdConfig(state: ClusterState, m: MachineRecord): string {
  return implementationOf(state) === 'reference' ? referenceFleetConfig(state, m) : ourFleetdConfig(state, m);
}

/** fleet's option names plus ours (see packages/agent's fleetd): one `key=value` per line. */
function ourFleetdConfig(state: ClusterState, m: MachineRecord): string {
  if (state.etcd === null) throw new Error('etcd must run before fleetd is configured');
  const lines = [
    ...(state.options.fleetdEtcd ?? [`etcd_servers=${state.etcd.clientUrl}`]),
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
    ...tlsLines(state.options.apiTls),
    'verbosity=0',
  ];
  return `${lines.join('\n')}\n`;
}

function tlsLines(tls: ClusterState['options']['apiTls']): string[] {
  if (tls === undefined) return [];
  return [`api_cert_file=${tls.certFile}`, `api_key_file=${tls.keyFile}`, ...(tls.caFile === undefined ? [] : [`api_ca_file=${tls.caFile}`])];
}

/**
 * Starts machine `m`'s fleetd of the cluster's implementation (detached, with `m.configFile` and
 * no `FLEET_*` variables), records it in `m.fleetd` and state.json, and resolves once it lists its
 * own machine (for the original fleetd, that first request is also what activates it). Throws,
 * with the log tail, if it exits during startup or is not ready within 30 s.
 */
export async function startFleetd(state: ClusterState, m: MachineRecord, log: (line: string) => void): Promise<void> {
  rmSync(m.apiSocket, { force: true });
  const t0 = Date.now();
  const launch = implementationOf(state) === 'reference'
    ? referenceFleetdLaunch(state, m)
    : { command: process.execPath, args: [state.options.fleetdBin, '--config', m.configFile] };
  const started = await startDetached(`fleetd:${m.name}`, launch.command, launch.args, {
    logFile: m.fleetdLog,
    cwd: repoRoot,
    // Both fleetds let FLEET_<OPTION> variables override their config file; the file must be the whole truth.
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLEET_'))),
  });
  m.fleetd = recordProcess(started.pid);
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

/**
 * Stops machine `m`'s fleetd if it runs (SIGTERM; SIGKILL after `graceMs`, by default the
 * implementation's grace for a cluster stop) and records it as stopped. Says how it ended.
 */
export async function stopFleetd(state: ClusterState, m: MachineRecord, graceMs: number = stopGraceMs[implementationOf(state)]): Promise<StopResult> {
  const p = m.fleetd;
  const result = p === null || !isRecordedAlive(p) ? 'not-running' : await stopProcess(p.pid, graceMs);
  m.fleetd = null;
  writeState(state);
  return result;
}

/** True when fleetd's `GET /fleet/v1/machines` on `socketPath` lists `machineId`. */
async function listsMachine(socketPath: string, machineId: string): Promise<boolean> {
  try {
    const res = await httpRequest({ socketPath, path: '/fleet/v1/machines' }, { timeoutMs: 2_000 });
    const parsed = JSON.parse(res.body) as { machines?: { id?: unknown }[] };
    return res.status === 200 && (parsed.machines ?? []).some((mm) => mm.id === machineId);
  } catch {
    return false;
  }
}

/** Reads `<machineDir>/machine-id`, creating it (32 random lowercase hex digits) the first time. */
export function machineIdFor(machineDir: string): string {
  const file = join(machineDir, 'machine-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  }
  const id = randomBytes(16).toString('hex');
  writeFileSync(file, `${id}\n`);
  return id;
}
