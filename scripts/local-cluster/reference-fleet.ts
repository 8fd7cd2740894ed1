import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterState, MachineRecord } from './cluster-state.js';
import { repoRoot } from './paths.js';
import { userInstanceEnvironment } from './systemd-user.js';

const exec = promisify(execFile);

/** The environment variable naming the folder of the original fleetd and fleetctl binaries. */
export const referenceDirVariable = 'FLEET_REFERENCE_DIR';

/** Where the original fleet binaries are, or one line saying what is missing. */
export type ReferenceFleetDir = { ok: true; dir: string } | { ok: false; why: string };

/**
 * The folder of the ORIGINAL CoreOS fleet binaries, from `FLEET_REFERENCE_DIR` (a relative value
 * starts at the repository root, so CI's `../shared/reference/fleet` works from any worktree).
 * Not ok, with the reason, when the variable is unset, the folder is missing, or `fleetd` or
 * `fleetctl` in it is not an executable file.
 */
export function referenceFleetDir(env: NodeJS.ProcessEnv = process.env): ReferenceFleetDir {
  const value = env[referenceDirVariable];
  if (value === undefined || value.trim() === '') {
    return { ok: false, why: `${referenceDirVariable} is not set: point it at the folder holding the original fleetd and fleetctl (a relative path starts at the repository root, e.g. ../shared/reference/fleet)` };
  }
  return checkReferenceDir(value, `${referenceDirVariable}=${value}`);
}

/**
 * Checks that `value` (absolute, or relative to the repository root) is a folder holding executable
 * `fleetd` and `fleetctl` files; `source` names where the value came from in the reason.
 */
export function checkReferenceDir(value: string, source: string): ReferenceFleetDir {
  const dir = resolve(repoRoot, value);
  if (!isDirectory(dir)) return { ok: false, why: `${source}: ${dir} is not a folder` };
  for (const binary of ['fleetd', 'fleetctl']) {
    const path = join(dir, binary);
    if (!isExecutableFile(path)) return { ok: false, why: `${source}: ${path} is not an executable file` };
  }
  return { ok: true, dir };
}

/** Path of the original fleetctl in the reference folder `dir`. */
export function referenceFleetctl(dir: string): string {
  return join(dir, 'fleetctl');
}

/** Path of the original fleetd in the reference folder `dir`. */
export function referenceFleetd(dir: string): string {
  return join(dir, 'fleetd');
}

/**
 * Machine `m`'s config in the original fleetd's format (globalconf: quoted strings, a JSON list of
 * etcd servers). The original reads its machine ID only from /etc/machine-id and has no API
 * listener options: {@link referenceFleetdLaunch} provides both.
 */
export function referenceFleetConfig(state: ClusterState, m: MachineRecord): string {
  if (state.etcd === null) throw new Error('etcd must run before fleetd is configured');
  const lines = [
    `etcd_servers=${JSON.stringify([state.etcd.clientUrl])}`,
    `etcd_key_prefix=${JSON.stringify('/_coreos.com/fleet/')}`,
    `public_ip=${JSON.stringify(m.publicIp)}`,
    `metadata=${JSON.stringify(m.metadata)}`,
    `units_directory=${JSON.stringify(m.unitsDirectory)}`,
    'systemd_user=true',
    `agent_ttl=${JSON.stringify(state.options.agentTtl)}`,
    `engine_reconcile_interval=${state.options.engineReconcileInterval}`,
    'verbosity=0',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The command line that runs the original fleetd of machine `m`. `unshare -m` gives it a private
 * mount namespace in which the machine's own `machine-id` file is bound over /etc/machine-id;
 * `systemd-socket-activate` listens on the API socket and the TCP address of `m.apiUrl` and starts
 * fleetd, with exactly the two variables it needs, on the first connection. Both `sh` and
 * systemd-socket-activate exec, so the spawned PID is fleetd's from then on.
 */
export function referenceFleetdLaunch(state: ClusterState, m: MachineRecord): { command: string; args: string[] } {
  const dir = state.options.referenceDir;
  if (dir === undefined) throw new Error(`cluster ${state.dir} runs the original fleetd but state.json records no reference folder`);
  return {
    command: 'unshare',
    args: [
      '--mount', '/bin/sh', '-c', 'mount --bind "$1" /etc/machine-id && shift && exec "$@"', 'sh',
      join(state.dir, m.name, 'machine-id'),
      'systemd-socket-activate',
      '--listen', m.apiSocket,
      '--listen', new URL(m.apiUrl).host,
      '--setenv', `DBUS_SESSION_BUS_ADDRESS=${m.busAddress}`,
      '--setenv', `XDG_RUNTIME_DIR=${m.runtimeDir}`,
      referenceFleetd(dir), '--config', m.configFile,
    ],
  };
}

/**
 * Stops, through machine `m`'s systemd, the units whose files the original fleetd left in its
 * units directory (it stops and unloads them itself on SIGTERM, but only about one a second, and
 * not at all when it is SIGKILLed). Resolves with the names of those systemd still had loaded.
 * Waits at most 60 s.
 */
export async function stopLeftoverUnits(m: MachineRecord): Promise<string[]> {
  const files = unitFiles(m.unitsDirectory);
  if (files.length === 0) return [];
  const env = { ...process.env, ...userInstanceEnvironment(m) };
  const listed = await exec('systemctl', ['--user', 'list-units', '--all', '--plain', '--no-legend', '--full', '--', ...files], { env, timeout: 10_000 });
  const loaded = listed.stdout.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').filter((name) => files.includes(name));
  if (loaded.length > 0) await exec('systemctl', ['--user', 'stop', '--', ...loaded], { env, timeout: 60_000 });
  return loaded;
}

/** The unit file names in `dir` (none when it does not exist). */
export function unitFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
