import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, pollUntil, startDetached, stopProcess, tail } from './processes.js';

/** The Docker engine the local cluster's units talk to (through the default socket). */
export interface DockerDaemon {
  /** PID of the dockerd that {@link ensureDocker} started; undefined when an engine already ran. */
  readonly startedPid?: number;
  /**
   * Stops the dockerd we started, if any; an engine we only reused is left alone. A dockerd we
   * started is also left running (with a warning) while containers run on it, because by then other
   * work on the machine (a demo cluster, another test run) is using the same engine.
   */
  stop(): Promise<void>;
}

const dockerd = '/usr/sbin/dockerd';
const startTimeoutMs = 60_000;

/** The busybox applets the image links to `/bin/busybox`; the examples and tests use only these. */
const applets = [
  'sh', 'sleep', 'echo', 'httpd', 'cat', 'date', 'printf', 'ls', 'true', 'false',
  'hostname', 'mkdir', 'env', 'wget', 'kill', 'ps', 'id', 'grep', 'rm', 'touch', 'seq',
];

/**
 * Makes sure a Docker engine answers on the default socket. Reuses a running one (recording
 * nothing); otherwise starts `dockerd --bridge=none --iptables=false` detached, with the default
 * data root so imported images survive restarts, and waits for `docker info`. Throws with the log
 * tail if the engine does not answer within 60 s.
 */
export async function ensureDocker(options: { dir: string; logFile: string }): Promise<DockerDaemon> {
  if (await dockerInfoWorks()) return { stop: async () => {} };
  mkdirSync(options.dir, { recursive: true });
  // No bridge and no iptables: traffic to private ranges is not allowed on these machines, and
  // containers use `--network none` or `--network host` (loopback) only.
  const args = ['--bridge=none', '--iptables=false'];
  if (await dockerdAccepts('--ip6tables')) args.push('--ip6tables=false');
  const started = await startDetached('dockerd', dockerd, args, { logFile: options.logFile });
  const outcome = await pollUntil(
    'docker info',
    async () => ((await dockerInfoWorks()) ? 'ready' : !isAlive(started.pid) ? 'exited' : undefined),
    { timeoutMs: startTimeoutMs, intervalMs: 200 },
  ).catch(async (err: unknown) => {
    await stopProcess(started.pid, 15_000);
    throw new Error(`dockerd did not answer: ${(err as Error).message}\n--- ${options.logFile} ---\n${tail(options.logFile)}`, { cause: err });
  });
  if (outcome === 'exited') {
    // Another process may have started an engine at the same moment: ours then loses the race for
    // /var/run/docker.pid and exits, and theirs is the one to use.
    if (await dockerInfoWorks()) return { stop: async () => {} };
    throw new Error(`dockerd exited during startup\n--- ${options.logFile} ---\n${tail(options.logFile)}`);
  }
  return {
    startedPid: started.pid,
    stop: async () => {
      const outcome = await stopDockerd(started.pid);
      if (!outcome.stopped && outcome.reason !== 'not running') process.stderr.write(`dockerd (PID ${started.pid}) left running: ${outcome.reason}\n`);
    },
  };
}

/**
 * Stops a dockerd by PID (SIGTERM, SIGKILL after 30 s) unless containers still run on it, in which
 * case it leaves it running and says why (see {@link DockerDaemon.stop}).
 */
export async function stopDockerd(pid: number): Promise<{ stopped: true } | { stopped: false; reason: string }> {
  if (!isAlive(pid)) return { stopped: false, reason: 'not running' };
  const running = await runningContainers().catch(() => []);
  if (running.length > 0) return { stopped: false, reason: `containers still run on it (${running.join(', ')})` };
  // dockerd stops its containerd child itself; give it time to shut down cleanly.
  await stopProcess(pid, 30_000);
  return { stopped: true };
}

/** True when `docker info` reaches an engine within 10 s. */
async function dockerInfoWorks(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], 10_000);
    return true;
  } catch {
    return false;
  }
}

/** Names of the running containers, as `docker ps` shows them. */
export async function runningContainers(): Promise<string[]> {
  const out = await run('docker', ['ps', '--format', '{{.Names}}'], 10_000);
  return out.split('\n').filter((line) => line !== '');
}

/**
 * Makes sure the image `tag` exists, building it offline when it does not: no registry is
 * reachable, so the image is `/bin/busybox` (a static binary from busybox-static) plus one link per
 * applet, imported with `docker import` and `PATH=/bin`. Returns whether it had to build.
 */
export async function ensureBusyboxImage(tag = 'fleet-busybox:latest'): Promise<{ built: boolean }> {
  if (await imageExists(tag)) return { built: false };
  const busybox = '/bin/busybox';
  assertStaticExecutable(busybox);
  const root = mkdtempSync(join(tmpdir(), 'fleet-busybox-'));
  try {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    for (const applet of applets) symlinkSync('busybox', join(root, 'bin', applet));
    await importDirectory(root, tag);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if (!(await imageExists(tag))) throw new Error(`docker import reported success but image ${tag} does not exist`);
  return { built: true };
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], 10_000);
    return true;
  } catch {
    return false;
  }
}

/** `tar -C dir -c . | docker import --change 'ENV PATH=/bin' - tag`, failing with both stderrs. */
function importDirectory(dir: string, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', dir, '--owner=0', '--group=0', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const importer = spawn('docker', ['import', '--change', 'ENV PATH=/bin', '-', tag], { stdio: ['pipe', 'pipe', 'pipe'] });
    let errors = '';
    tar.stderr.on('data', (d: Buffer) => (errors += `tar: ${d.toString()}`));
    importer.stderr.on('data', (d: Buffer) => (errors += `docker import: ${d.toString()}`));
    importer.stdout.resume();
    tar.stdout.pipe(importer.stdin);
    let tarCode: number | null = null;
    tar.on('error', reject);
    importer.on('error', reject);
    tar.on('close', (code) => (tarCode = code));
    importer.on('close', (code) => {
      if (code === 0 && tarCode === 0) resolve();
      else reject(new Error(`building image ${tag} failed (tar exit ${String(tarCode)}, docker import exit ${String(code)}): ${errors.trim()}`));
    });
  });
}

/**
 * Fails unless `file` is an ELF executable with no program interpreter: the image has no libc, so
 * a dynamically linked busybox (from the `busybox` package instead of `busybox-static`) would not
 * run in it, and the error would only show up as a container that fails to start.
 */
function assertStaticExecutable(file: string): void {
  const header = Buffer.alloc(64);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) throw new Error(`${file} is not a 64-bit ELF executable`);
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const entry = Buffer.alloc(4);
    for (let i = 0; i < phnum; i++) {
      readSync(fd, entry, 0, 4, phoff + i * phentsize);
      const PT_INTERP = 3;
      if (entry.readUInt32LE(0) === PT_INTERP) {
        throw new Error(`${file} is dynamically linked; install busybox-static (scripts/bootstrap.sh does) to build the image`);
      }
    }
  } finally {
    closeSync(fd);
  }
}

async function dockerdAccepts(flag: string): Promise<boolean> {
  const help = await run(dockerd, ['--help'], 10_000).catch(() => '');
  return help.includes(flag);
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}
