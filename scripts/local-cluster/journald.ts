import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { isAlive, pollUntil, startDetached, socketAccepts, stopProcess, tail } from './processes.js';

/**
 * systemd's journal daemon, so that `fleetctl journal` has something to read: no journald runs on
 * these machines by default, and a unit started while none runs logs nowhere (systemd falls back to
 * /dev/null and never reconnects). Started by hand as root, journald creates its sockets under
 * `/run/systemd/journal/` and stores entries in the runtime journal (`/run/log/journal`); the
 * user instances' units reach it through `/run/systemd/journal/stdout`.
 */
export interface Journald {
  /** PID of the journald that {@link ensureJournald} started; undefined when one already ran. */
  readonly startedPid?: number;
  /** Stops the journald we started (see {@link stopJournald}); one we only reused is left alone. */
  stop(): Promise<void>;
}

const journaldBinary = '/lib/systemd/systemd-journald';
/** The stream socket units' stdout/stderr connect to; journald accepts on it once it is ready. */
const journalStdoutSocket = '/run/systemd/journal/stdout';
const startTimeoutMs = 20_000;
/**
 * Serialises starts across processes (a demo and a test run may start clusters at the same time):
 * a second journald would unlink and re-bind the sockets of the first and write the same journal
 * files. Holds the PID of the process that is starting one.
 */
const startLockFile = '/run/fleet-local-journald.lock';

/**
 * Makes sure a journald accepts connections on {@link journalStdoutSocket}. Reuses a running one
 * (recording nothing); otherwise starts `/lib/systemd/systemd-journald` detached, its output in
 * `logFile`, and waits until the socket accepts a connection. Call it BEFORE starting the systemd
 * instances whose units should be logged. Throws, with the reason and the log tail, if journald
 * cannot start within 20 s.
 */
export async function ensureJournald(options: { logFile: string }): Promise<Journald> {
  const notOurs: Journald = { stop: async () => {} };
  if (await journaldAccepts()) return notOurs;
  if (!existsSync(journaldBinary)) throw new Error(`journald cannot start: ${journaldBinary} does not exist (install the systemd package)`);
  const release = await lockStart();
  try {
    // Someone else may have started one while we waited for the lock.
    if (await journaldAccepts()) return notOurs;
    const started = await startDetached('journald', journaldBinary, [], { logFile: options.logFile });
    const outcome = await pollUntil(
      `journald to accept connections on ${journalStdoutSocket}`,
      async () => ((await journaldAccepts()) ? 'ready' : !isAlive(started.pid) ? 'exited' : undefined),
      { timeoutMs: startTimeoutMs, intervalMs: 50 },
    ).catch(async (err: unknown) => {
      await stopProcess(started.pid, 5_000);
      throw new Error(`journald cannot start: ${(err as Error).message}\n--- ${options.logFile} ---\n${tail(options.logFile)}`, { cause: err });
    });
    if (outcome === 'exited') throw new Error(`journald cannot start: it exited during startup\n--- ${options.logFile} ---\n${tail(options.logFile)}`);
    return {
      startedPid: started.pid,
      stop: async () => {
        const stopped = await stopJournald(started.pid);
        if (!stopped.stopped && stopped.reason !== 'not running') process.stderr.write(`journald (PID ${started.pid}) left running: ${stopped.reason}\n`);
      },
    };
  } finally {
    release();
  }
}

/**
 * Stops a journald we started, by PID (SIGTERM; SIGKILL after 10 s), unless units of other
 * processes still write to it. Call it after stopping this cluster's systemd instances: their
 * units' output streams then close, and any stream still connected after a short wait belongs to
 * someone else (another cluster, a test run), whose logs would be cut off, so journald is left
 * running and the reason returned.
 */
export async function stopJournald(pid: number): Promise<{ stopped: true } | { stopped: false; reason: string }> {
  if (!isAlive(pid)) return { stopped: false, reason: 'not running' };
  // journald closes a stream shortly after its writer is gone; give the streams of our own units that moment.
  const streams = await pollUntil('the output streams to close', () => (connectedStreams() === 0 ? 0 : undefined), { timeoutMs: 3_000, intervalMs: 50 }).catch(
    () => connectedStreams(),
  );
  if (streams > 0) return { stopped: false, reason: `${streams} output stream(s) of other units still write to it (another cluster or test run uses it)` };
  await stopProcess(pid, 10_000);
  return { stopped: true };
}

/** True when something accepts a connection on journald's stdout socket right now. */
export function journaldAccepts(): Promise<boolean> {
  return socketAccepts(journalStdoutSocket);
}

/**
 * Connected streams on the stdout socket: one per running unit that logs to the journal (a user
 * instance's own dbus-daemon is one). In /proc/net/unix, journald's accepted connections carry
 * the socket's path with state 03 (connected); the listening socket has state 01.
 */
function connectedStreams(): number {
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return 0;
  }
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[7] === journalStdoutSocket && fields[5] === '03').length;
}

/** Takes the start lock (an exclusively created file holding our PID); a lock whose holder is gone is taken over. */
async function lockStart(): Promise<() => void> {
  mkdirSync('/run', { recursive: true });
  const release = (): void => rmSync(startLockFile, { force: true });
  await pollUntil(
    `the journald start lock ${startLockFile}`,
    () => {
      try {
        const fd = openSync(startLockFile, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number(readFileSync(startLockFile, 'utf8').trim());
      // A holder that died (or had not written its PID yet, read as 0 and retried) leaves the file behind.
      if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) rmSync(startLockFile, { force: true });
      return undefined;
    },
    { timeoutMs: startTimeoutMs + 5_000, intervalMs: 50 },
  );
  return release;
}
