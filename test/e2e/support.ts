import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, startLocalCluster, type LocalCluster, type LocalClusterOptions, type LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { pollUntil } from '../../scripts/local-cluster/processes.js';

export { pollUntil };
const exec = promisify(execFile);

/** A real local cluster in a fresh short temp dir (unix socket paths are limited to ~100 bytes). */
export async function startTestCluster(opts: Partial<LocalClusterOptions> = {}): Promise<LocalCluster & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync('/tmp/fl-');
  const cluster = await startLocalCluster({ agentTtl: '5s', engineReconcileInterval: 1, name: 'test', ...opts, dir });
  return Object.assign(cluster, {
    cleanup: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built fleetctl binary (run it with `process.execPath`). */
export const fleetctlBin = join(repoRoot, 'packages/fleetctl/dist/bin/fleetctl.js');

/** The fleetctl command line (node, the bin, `--endpoint`) for `machine`'s API socket, as words. */
export function fleetctlCommand(machine: LocalMachine): string[] {
  return [process.execPath, fleetctlBin, '--endpoint', `unix://${machine.apiSocket}`];
}

/** Runs the real fleetctl binary against `machine`'s API socket. */
export async function fleetctl(machine: LocalMachine, ...args: string[]): Promise<CommandResult> {
  const [node = process.execPath, ...rest] = fleetctlCommand(machine);
  try {
    const { stdout, stderr } = await exec(node, [...rest, ...args], { cwd: repoRoot, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** One HTTP request to a machine's API socket. */
export function api(machine: LocalMachine, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: machine.apiSocket, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** systemd's own view of a unit on one machine, read with `systemctl --user` on that machine's bus. */
export async function systemdState(machine: LocalMachine, unit: string): Promise<{ load: string; active: string; sub: string }> {
  const { stdout } = await exec('systemctl', ['--user', 'show', '-p', 'LoadState,ActiveState,SubState', unit], {
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: machine.busAddress, XDG_RUNTIME_DIR: machine.runtimeDir },
  });
  const props = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
  return { load: props['LoadState'] ?? '', active: props['ActiveState'] ?? '', sub: props['SubState'] ?? '' };
}

/** Machines on which systemd runs `unit` (`active running`). */
export async function machinesRunning(cluster: LocalCluster, unit: string, among = cluster.machines): Promise<LocalMachine[]> {
  const states = await Promise.all(among.map(async (m) => ({ m, s: await systemdState(m, unit) })));
  return states.filter(({ s }) => s.active === 'active' && s.sub === 'running').map(({ m }) => m);
}

/** Names of running Docker containers. */
export async function runningContainers(): Promise<string[]> {
  const { stdout } = await exec('docker', ['ps', '--format', '{{.Names}}']);
  return stdout.split('\n').filter((l) => l !== '');
}

/** Fails with the fleetd logs of the cluster appended, so a red e2e run says what the daemons saw. */
export function clusterLogs(cluster: LocalCluster): string {
  return cluster.machines.map((m) => `--- ${m.name} fleetd log: ${m.fleetdLog}`).join('\n');
}

export const examplesDir = join(repoRoot, 'examples');

/** systemd's MainPID of a unit on one machine (0 when not running). */
export async function mainPid(machine: LocalMachine, unit: string): Promise<number> {
  const { stdout } = await exec('systemctl', ['--user', 'show', '-p', 'MainPID', '--value', unit], {
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: machine.busAddress, XDG_RUNTIME_DIR: machine.runtimeDir },
  });
  return Number(stdout.trim());
}

/** Writes a unit running `/bin/sleep` into `dir` and returns its path. */
export function sleeperUnit(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, `[Unit]\nDescription=${name}\n\n[Service]\nExecStart=/bin/sleep 100000\n`);
  return path;
}

/** Writes a `/bin/sleep` unit with the given `[X-Fleet]` lines into `dir`; returns its path. */
export function fleetUnit(dir: string, name: string, xfleet: readonly string[] = []): string {
  const path = join(dir, name);
  const section = xfleet.length === 0 ? '' : `\n[X-Fleet]\n${xfleet.join('\n')}\n`;
  writeFileSync(path, `[Unit]\nDescription=${name}\n\n[Service]\nExecStart=/bin/sleep 100000\n${section}`);
  return path;
}

/** Where each named unit runs (machine name), read from the machines' own systemd. */
export async function hostsOf(cluster: LocalCluster, units: readonly string[], among = cluster.machines): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const unit of units) out.set(unit, (await machinesRunning(cluster, unit, among)).map((m) => m.name));
  return out;
}

/** The API's `reason` for a unit (why it is not placed), or undefined. */
export async function reasonOf(machine: LocalMachine, unit: string): Promise<string | undefined> {
  const body = (await api(machine, 'GET', `/fleet/v1/units/${unit}`)).body as { reason?: string };
  return body.reason;
}

/** Runs a fleetctl command that must succeed quietly (exit 0, nothing on stderr); returns its result. */
export async function fleetctlOk(machine: LocalMachine, ...args: string[]): Promise<CommandResult> {
  const result = await fleetctl(machine, ...args);
  if (result.code !== 0 || result.stderr !== '') {
    throw new Error(`fleetctl ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}
