import { execFile } from 'node:child_process';
import { mkdirSync, chmodSync, rmdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDetached, pollUntil, socketAccepts, stopProcess, tail, type StartedProcess } from './processes.js';

/** A running `systemd --user` instance standing in for one machine's init system. */
export interface SystemdUserInstance {
  readonly process: StartedProcess;
  /** Private runtime dir (mode 0700); its `systemd/user` subdir is the runtime unit directory. */
  readonly runtimeDir: string;
  /** D-Bus address of the instance's own bus: `unix:path=<runtimeDir>/bus`. */
  readonly busAddress: string;
  /** Name of the cgroup (in both hierarchies) the instance runs in. */
  readonly cgroup: string;
}

const cgroupRoots = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'];

/**
 * The variables that point `systemctl --user` (and D-Bus clients) at one instance: its bus, and its
 * runtime dir, where systemctl looks for the instance's private socket before trying the bus.
 */
export function userInstanceEnvironment(instance: { readonly busAddress: string; readonly runtimeDir: string }): { DBUS_SESSION_BUS_ADDRESS: string; XDG_RUNTIME_DIR: string } {
  return { DBUS_SESSION_BUS_ADDRESS: instance.busAddress, XDG_RUNTIME_DIR: instance.runtimeDir };
}

/**
 * Starts one `systemd --user` in its own cgroup (both hierarchies, see ENVIRONMENT.md: without it two
 * instances share `/app.slice/X.service` and stopping a unit on one machine kills it on the other),
 * with a private XDG_RUNTIME_DIR. Resolves once its bus accepts connections. Throws with the log tail
 * if systemd does not come up.
 */
export async function startSystemdUser(options: { runtimeDir: string; cgroup: string; logFile: string }): Promise<SystemdUserInstance> {
  const binary = '/lib/systemd/systemd';
  if (!existsSync(binary)) throw new Error(`systemd cannot start: ${binary} does not exist (install the systemd package)`);
  // systemd refuses to run a user instance unless the host looks booted with systemd.
  mkdirSync('/run/systemd/system', { recursive: true });
  mkdirSync(options.runtimeDir, { recursive: true });
  chmodSync(options.runtimeDir, 0o700);
  for (const root of cgroupRoots) {
    if (!existsSync(root)) throw new Error(`systemd cannot start: cgroup hierarchy ${root} is not mounted`);
    mkdirSync(join(root, options.cgroup), { recursive: true });
  }
  const procs = cgroupRoots.map((root) => join(root, options.cgroup, 'cgroup.procs'));
  const script = `${procs.map((p) => `echo $$ > '${p}'`).join(' && ')} && exec '${binary}' --user`;
  const process_ = await startDetached(`systemd-user:${options.cgroup}`, '/bin/sh', ['-c', script], {
    logFile: options.logFile,
    env: { ...process.env, ...userInstanceEnvironment({ busAddress: `unix:path=${join(options.runtimeDir, 'bus')}`, runtimeDir: options.runtimeDir }) },
  });
  const busPath = join(options.runtimeDir, 'bus');
  try {
    await pollUntil(`systemd --user bus at ${busPath}`, async () => ((await socketAccepts(busPath)) ? true : undefined), { timeoutMs: 20_000 });
  } catch (err) {
    await stopProcess(process_.pid, 2_000);
    throw new Error(`systemd cannot start: ${(err as Error).message}\n--- ${options.logFile} ---\n${tail(options.logFile)}`, { cause: err });
  }
  return { process: process_, runtimeDir: options.runtimeDir, busAddress: `unix:path=${busPath}`, cgroup: options.cgroup };
}

/**
 * The connections (unique names such as `:1.42`) that process `pid` holds on the bus at
 * `busAddress`, as the instance's bus daemon lists them (`busctl list --unique`).
 */
export async function busConnectionsOf(busAddress: string, pid: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)('busctl', [`--address=${busAddress}`, '--no-pager', '--no-legend', '--unique', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[0]?.startsWith(':') === true && cols[1] === String(pid))
    .map((cols) => cols[0] ?? '');
}

/** Stops the instance (SIGTERM makes systemd stop its units first, which runs their ExecStop) and removes its cgroups. */
export async function stopSystemdUser(instance: Pick<SystemdUserInstance, 'process' | 'cgroup'>, graceMs = 30_000): Promise<void> {
  await stopProcess(instance.process.pid, graceMs);
  await removeCgroupWhenEmpty(instance.cgroup);
}

/**
 * Removes the cgroup directories, retrying for up to `waitMs`: right after systemd exits, the last
 * processes of its units (a `docker run` client finishing) may still be leaving their cgroups.
 * Resolves true when both hierarchies are clean; a cgroup that still has processes stays.
 */
export async function removeCgroupWhenEmpty(cgroup: string, waitMs = 5_000): Promise<boolean> {
  const removed = (): true | undefined => {
    removeCgroup(cgroup);
    return cgroupRoots.every((root) => !existsSync(join(root, cgroup))) ? true : undefined;
  };
  return pollUntil(`cgroup ${cgroup} to be removed`, removed, { timeoutMs: waitMs }).catch(() => false);
}

/** Removes the cgroup directories (children first). Best effort: a cgroup with live processes stays. */
export function removeCgroup(cgroup: string): void {
  for (const root of cgroupRoots) {
    const dir = join(root, cgroup);
    if (!existsSync(dir)) continue;
    removeCgroupTree(dir);
  }
}

function removeCgroupTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirDirs(dir);
  } catch {
    return;
  }
  for (const child of entries) removeCgroupTree(join(dir, child));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes: left for the owner to clean up
  }
}

function readdirDirs(dir: string): string[] {
  // cgroupfs lists sub-cgroups as directories; its control files cannot be removed and are skipped.
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
}
