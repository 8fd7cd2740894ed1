import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** A process this project started, recorded so that exactly it (and nothing else) is stopped later. */
export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

/** Starts `command` detached (own session), stdout+stderr to `logFile`. Returns once spawned. */
export async function startDetached(
  name: string,
  command: string,
  args: readonly string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<StartedProcess> {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start ${name} (${command}): ${err.message}`, { cause: err })));
      child.once('spawn', () => resolve(child.pid ?? -1));
    });
    child.unref();
    return { name, pid, logFile: options.logFile };
  } finally {
    closeSync(fd);
  }
}

/** True while a process with this PID exists (and is not a zombie we can see). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited and only waits for its parent to collect it; signal 0 still succeeds on it.
  return statFields(pid)?.[0] !== 'Z';
}

/** Polls `check` every `intervalMs` until it returns a non-undefined value or `timeoutMs` passes. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** How {@link stopProcess} ended: on SIGTERM within the grace, only after SIGKILL, or nothing ran. */
export type StopResult = 'terminated' | 'killed' | 'not-running';

/**
 * Stops exactly this PID: SIGTERM, then SIGKILL if it is still alive after `graceMs`.
 * Resolves once the process is gone, saying which signal ended it. Never signals by name or pattern.
 */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<StopResult> {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  try {
    await pollUntil(`PID ${pid} to exit`, () => (isAlive(pid) ? undefined : true), { timeoutMs: graceMs, intervalMs: 50 });
    return 'terminated';
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return 'terminated';
    }
    await pollUntil(`PID ${pid} to exit after SIGKILL`, () => (isAlive(pid) ? undefined : true), { timeoutMs: 5_000, intervalMs: 50 });
    return 'killed';
  }
}

/** A process recorded with its start time, so a PID reused by an unrelated process is never signalled. */
export interface RecordedProcess {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot); null where /proc is unreadable. */
  readonly startTime: string | null;
}

/** Records the running process `pid` with its current start time. */
export function recordProcess(pid: number): RecordedProcess {
  return { pid, startTime: processStartTime(pid) };
}

/** True while the recorded process itself (not an unrelated process that reused its PID) runs. */
export function isRecordedAlive(p: RecordedProcess): boolean {
  if (!isAlive(p.pid)) return false;
  const now = processStartTime(p.pid);
  return p.startTime === null || now === null || now === p.startTime;
}

/** Field 22 (starttime) of /proc/PID/stat. */
function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/**
 * The fields of /proc/PID/stat from field 3 (state) on; undefined where it is unreadable. The
 * command name (field 2) may contain spaces, so the split starts after its `)`.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True when something accepts a connection on the unix socket `path` right now. */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
