import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SystemdError } from '@fleet/core';

/** What {@link readJournal} reads. */
export interface JournalQuery {
  /** The unit whose entries to read; selects them with `-u <unit>` unless {@link cgroup} is set. */
  readonly unit: string;
  /**
   * The unit's cgroup, e.g. `/fleet-abc-m1/app.slice/hello.service`: selects entries with
   * `_SYSTEMD_CGROUP=<cgroup>` instead of `-u`. Needed for a user instance outside
   * `user@.service` (the local cluster, the tests): journald cannot attribute its units' output to
   * a unit name, only to a cgroup.
   */
  readonly cgroup?: string | undefined;
  /** How many of the most recent entries to print first (`-n`); 0 = none (useful with follow). */
  readonly lines: number;
  /** Keep printing entries as they arrive (`-f`) until {@link signal} aborts. */
  readonly follow: boolean;
  /** Aborting ends the iteration (without an error) and kills the journalctl process. */
  readonly signal?: AbortSignal | undefined;
  /** The journalctl binary; default `journalctl` from PATH. */
  readonly journalctl?: string | undefined;
}

/** The arguments {@link readJournal} passes to journalctl (exported for tests and logs). */
export function journalctlArgs(query: Pick<JournalQuery, 'unit' | 'cgroup' | 'lines' | 'follow'>): string[] {
  // -q drops journalctl's own "-- No entries --" and "-- Boot ... --" lines: callers get entries only.
  const args = ['--no-pager', '--quiet', '-o', 'short', '-n', String(query.lines)];
  if (query.follow) args.push('-f');
  if (query.cgroup !== undefined) args.push(`_SYSTEMD_CGROUP=${query.cgroup}`);
  else args.push('-u', query.unit);
  return args;
}

/**
 * Reads a unit's log through `journalctl --no-pager -q -o short -n <lines> [-f] <match>` (see
 * {@link journalctlArgs}), yielding each line (without its newline) as journalctl prints it. Without
 * `follow` the iteration ends when journalctl has printed the last `lines` entries; with it, only
 * when `signal` aborts. Aborting the signal, or leaving a `for await` loop early, kills exactly
 * this journalctl process; the iteration has ended only once that process is gone.
 *
 * Throws a terminal `SystemdError` (operation `journalctl <unit>`) when journalctl is missing or
 * cannot start, or when it exits with a failure that we did not cause, with its stderr as the
 * reason; a `RangeError` for a `lines` that is not a non-negative integer. A unit that has logged
 * nothing yields nothing (not an error).
 */
export async function* readJournal(query: JournalQuery): AsyncGenerator<string, void, undefined> {
  if (!Number.isSafeInteger(query.lines) || query.lines < 0) throw new RangeError(`lines must be a non-negative integer, not ${query.lines}`);
  const { signal } = query;
  const aborted = (): boolean => signal?.aborted === true;
  if (aborted()) return;
  const binary = query.journalctl ?? 'journalctl';
  const operation = `journalctl ${query.unit}`;
  const child = spawn(binary, journalctlArgs(query), { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, sig) => resolve({ code, signal: sig }));
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err; // ENOENT, EACCES
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4_096) stderr += chunk;
  });
  let killedByUs = false;
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null && !killedByUs) {
      killedByUs = true;
      child.kill('SIGTERM');
    }
  };
  signal?.addEventListener('abort', kill, { once: true });
  try {
    // Killing the child ends its stdout, which ends this loop: an abort never leaves a read pending.
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (aborted()) break; // lines still buffered when the caller gave up
      yield line;
    }
    const outcome = await exited;
    if (spawnError !== undefined) {
      const reason = (spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? `${binary} is not installed (${spawnError.message})` : spawnError.message;
      throw new SystemdError(operation, false, { cause: new Error(reason, { cause: spawnError }) });
    }
    if (killedByUs) return;
    if (outcome.code !== 0) {
      const how = outcome.code === null ? `was killed by ${String(outcome.signal)}` : `exited with code ${outcome.code}`;
      throw new SystemdError(operation, false, { cause: new Error(`${binary} ${how}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`) });
    }
  } finally {
    signal?.removeEventListener('abort', kill);
    kill(); // the consumer left early (break, throw): journalctl must not outlive the iteration
    await exited;
  }
}
