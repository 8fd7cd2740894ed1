import { constants } from 'node:fs';
import { mkdir, open, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SystemdError, silentLogger, type Clock, type Logger } from '@fleet/core';
import type { UnitName } from '@fleet/core/model';
import { writeFileAtomically } from './atomic-file.js';
import type { SystemdConnection } from './systemd-connection.js';

/** The watchdog's unit name: one per systemd instance, as there is one fleetd per instance. */
export const watchdogUnitName = 'fleet-watchdog.service';
/** The drop-in that binds a unit to the watchdog, in `<runtime unit dir>/<unit>.d/`. */
const dropInName = 'fleet-watchdog.conf';
const dropInText = [
  '# Written by fleetd: when fleetd stops answering, systemd stops this unit (see fleet-watchdog.service).',
  '[Unit]',
  `BindsTo=${watchdogUnitName}`,
  `After=${watchdogUnitName}`,
  '',
].join('\n');

/** Where each unit's binding to the watchdog lives (see {@link SystemdWatchdog.install}). */
export interface WatchdogBinding {
  readonly unit: string;
  /** systemd's runtime unit directory, where the units' links are and their drop-ins go. */
  readonly runtimeDirectory: string;
}

/** Options of {@link SystemdWatchdog.install}. */
export interface SystemdWatchdogOptions {
  /** fleetd's units directory; the watchdog's own file and heartbeat FIFO go in `<dir>/.watchdog/`. */
  readonly unitsDirectory: string;
  /** How long without a heartbeat before the watchdog exits and systemd stops every bound unit. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
}

/**
 * fleetd's dead man's switch: a small service whose only process waits on a FIFO for heartbeats
 * and exits when none came for `timeoutMs`. Every unit the agent loads is bound to it by a drop-in
 * (`BindsTo=` + `After=`), so when fleetd is killed, stopped (SIGSTOP) or hangs, systemd itself
 * stops the units within `timeoutMs`, before the machine's lease expires and the engine starts
 * them elsewhere: a unit does not keep running on a machine the cluster has given up on.
 *
 * Why not systemd's own `WatchdogSec=` with `sd_notify("WATCHDOG=1")`: systemd accepts
 * notifications only from processes in the service's cgroup, and fleetd is not in it (it is a
 * client of the service manager, not its child); relaying through `systemd-notify` from a child
 * races with the child's exit (systemd < 254 cannot attribute a message whose sender is gone).
 * `BindsTo=` rather than `Requires=`/`PartOf=`: it is the dependency that stops a unit when the
 * other one becomes inactive for any reason, its main process exiting included. The FIFO is
 * opened read-write by the watchdog itself, so a fleetd that restarts (a hand-over) within
 * `timeoutMs` stops nothing.
 */
export class SystemdWatchdog {
  private constructor(
    private readonly connection: SystemdConnection,
    private readonly fifo: string,
    readonly binding: WatchdogBinding,
    private readonly options: SystemdWatchdogOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Writes the watchdog's unit file, links it into systemd's runtime unit directory (reloading
   * systemd if it knew an older definition) and starts it unless it runs. Throws `SystemdError`.
   */
  static async install(connection: SystemdConnection, options: SystemdWatchdogOptions): Promise<SystemdWatchdog> {
    const dir = join(resolve(options.unitsDirectory), '.watchdog');
    const fifo = join(dir, 'heartbeat');
    const path = join(dir, watchdogUnitName);
    const text = watchdogUnitText(fifo, options.timeoutMs);
    const previous = await readFile(path, 'utf8').catch(() => undefined);
    try {
      await mkdir(dir, { recursive: true });
      if (previous !== text) await writeFileAtomically(path, text);
    } catch (err) {
      throw new SystemdError(`write ${path}`, false, { cause: err });
    }
    const bus = await connection.bus();
    await bus.linkUnitFiles([path], true, true);
    // A running watchdog keeps its old timeout until it next starts: restarting it would stop every unit.
    if (previous !== undefined && previous !== text) await bus.reload();
    const { fragmentPath } = await bus.getUnitProperties(watchdogUnitName);
    const runtimeDirectory = dirname(fragmentPath);
    if (fragmentPath === '' || runtimeDirectory === dir) {
      throw new SystemdError(`link ${watchdogUnitName}`, false, { cause: new Error(`systemd reports its file as '${fragmentPath}', not a link in a runtime unit directory`) });
    }
    const watchdog = new SystemdWatchdog(connection, fifo, { unit: watchdogUnitName, runtimeDirectory }, options, options.logger ?? silentLogger);
    await watchdog.start();
    return watchdog;
  }

  /**
   * Beats every quarter of the timeout until `signal` aborts. When no watchdog reads the FIFO (it
   * timed out while this process was stopped, or someone stopped it), systemd has stopped the
   * bound units: it is started again and `onRestarted` is called, so that the agent starts what
   * is still scheduled here.
   */
  async run(signal: AbortSignal, onRestarted: () => void): Promise<void> {
    const { clock, timeoutMs } = this.options;
    while (!signal.aborted) {
      if ((await this.beat()) === 'no-reader') {
        this.log.warn(`${watchdogUnitName} is not running: systemd has stopped the units bound to it; starting it again`);
        await this.start().then(onRestarted, (err: unknown) => this.log.error(`cannot start ${watchdogUnitName}`, { err }));
      }
      await clock.sleep(timeoutMs / 4, signal).catch(() => undefined);
    }
  }

  /** One heartbeat: a line into the FIFO; `no-reader` when no watchdog process holds it open. */
  async beat(): Promise<'ok' | 'no-reader'> {
    let handle;
    try {
      // Non-blocking: opening a FIFO for writing fails at once (ENXIO) when nobody reads it.
      handle = await open(this.fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENXIO' || code === 'ENOENT') return 'no-reader';
      this.log.warn('cannot open the watchdog heartbeat FIFO', { err });
      return 'ok';
    }
    try {
      if (!(await handle.stat()).isFIFO()) return 'no-reader';
      await handle.write('\n').catch(() => undefined); // EAGAIN: the pipe is full, the watchdog is alive
      return 'ok';
    } finally {
      await handle.close();
    }
  }

  /** Starts the watchdog (a no-op while it runs) and waits until it reads its FIFO. */
  async start(): Promise<void> {
    await (await this.connection.bus()).startUnit(watchdogUnitName, 'replace');
    const deadline = this.options.clock.now() + 5_000;
    while ((await this.beat()) === 'no-reader') {
      if (this.options.clock.now() > deadline) throw new SystemdError(`start ${watchdogUnitName}`, true, { cause: new Error('it did not open its heartbeat FIFO within 5 s') });
      await this.options.clock.sleep(20);
    }
  }

  /** Stops the watchdog, and with it every unit still bound to it (a purge has stopped them already). */
  async stop(): Promise<void> {
    await (await this.connection.bus()).stopUnit(watchdogUnitName, 'replace');
  }
}

/**
 * The watchdog's unit: bash reads heartbeats with a timeout and exits 1, with a line in the
 * journal, when one does not come. No start limit: fleetd starts it again whenever it finds it
 * stopped.
 */
function watchdogUnitText(fifo: string, timeoutMs: number): string {
  const seconds = (timeoutMs / 1000).toFixed(3);
  // `$$` is systemd's escape for a `$` that bash, not systemd, expands.
  const script = [
    '[ -p "$$0" ] || { rm -f "$$0"; mkfifo -m 600 "$$0"; } || exit 2',
    'exec 3<>"$$0"',
    'while read -r -t "$$1" -u 3 _; do :; done',
    'echo "no heartbeat from fleetd for $$1 s: systemd stops the units fleet started here" >&2',
    'exit 1',
  ].join('; ');
  return [
    '# Written by fleetd. Units fleet starts are bound to this one (BindsTo=): when fleetd stops',
    '# answering, this exits and systemd stops them.',
    '[Unit]',
    'Description=fleet watchdog: stops fleet\'s units when fleetd stops answering',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=/bin/bash -c '${script}' "${fifo}" ${seconds}`,
    '',
  ].join('\n');
}

/** Writes the drop-in that binds `unit` to the watchdog unless it is there already; `true` when it wrote it. */
export async function writeWatchdogDropIn(binding: WatchdogBinding, unit: UnitName): Promise<boolean> {
  const dir = join(binding.runtimeDirectory, `${unit}.d`);
  const path = join(dir, dropInName);
  try {
    if ((await readFile(path, 'utf8').catch(() => undefined)) === dropInText) return false;
    await mkdir(dir, { recursive: true });
    await writeFileAtomically(path, dropInText);
    return true;
  } catch (err) {
    throw new SystemdError(`write ${path}`, false, { cause: err });
  }
}

/** Removes `unit`'s drop-in (and its folder when nothing else is in it). */
export async function removeWatchdogDropIn(binding: WatchdogBinding, unit: UnitName): Promise<void> {
  const dir = join(binding.runtimeDirectory, `${unit}.d`);
  try {
    await rm(join(dir, dropInName), { force: true });
  } catch (err) {
    throw new SystemdError(`remove ${join(dir, dropInName)}`, false, { cause: err });
  }
  await rmdir(dir).catch(() => undefined); // not empty (the operator's own drop-ins) or already gone
}
