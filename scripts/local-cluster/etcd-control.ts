import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readClusterState, writeState, type ClusterState } from './cluster-state.js';
import { isEtcdHealthy } from './etcd.js';
import { isAlive, isRecordedAlive, pollUntil, recordProcess, startDetached, stopProcess, tail } from './processes.js';

/** A cluster's etcd that {@link stopClusterEtcd} stopped; {@link StoppedEtcd.start} brings it back. */
export interface StoppedEtcd {
  /**
   * Starts etcd again with exactly the command line it ran with (same client and peer URLs, same
   * data dir, so every key and lease it kept is there again), records the new PID in state.json and
   * resolves once it reports healthy. Throws, with the log tail, if it does not within 20 s.
   */
  start(): Promise<void>;
}

const readyTimeoutMs = 20_000;

/**
 * Stops the etcd of the cluster in `dir` (SIGTERM to its recorded PID; its data dir is kept), for
 * tests of an etcd outage. Its command line is read from /proc before it stops, so the restart is
 * the same member on the same ports.
 */
export async function stopClusterEtcd(dir: string): Promise<StoppedEtcd> {
  const state = readClusterState(resolve(dir));
  const etcd = state?.etcd;
  if (state === undefined || etcd === null || etcd === undefined || !isRecordedAlive(etcd.process)) {
    throw new Error(`no running etcd recorded in ${dir}/state.json`);
  }
  const argv = readFileSync(`/proc/${etcd.process.pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  const [command, ...args] = argv;
  if (command === undefined) throw new Error(`cannot read the command line of etcd PID ${etcd.process.pid}`);
  await stopProcess(etcd.process.pid, 10_000);
  return { start: () => restart(state, command, args) };
}

async function restart(state: ClusterState, command: string, args: readonly string[]): Promise<void> {
  const etcd = state.etcd;
  if (etcd === null) throw new Error('cluster state lost its etcd record');
  // A developer's ETCD_* variables would override these flags (etcd reads both and refuses conflicts).
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ETCD')));
  const started = await startDetached(`etcd:${state.name}`, command, args, { logFile: etcd.logFile, env });
  // The state file on disk is the truth other processes (cluster:down) read: update it there.
  const current = readClusterState(state.dir) ?? state;
  if (current.etcd !== null) current.etcd = { ...current.etcd, process: recordProcess(started.pid) };
  writeState(current);
  state.etcd = current.etcd;
  const outcome = await pollUntil(
    `etcd health at ${etcd.clientUrl}/health after a restart`,
    async () => (!isAlive(started.pid) ? 'exited' : (await isEtcdHealthy(etcd.clientUrl)) ? 'healthy' : undefined),
    { timeoutMs: readyTimeoutMs, intervalMs: 100 },
  ).catch((err: unknown) => {
    throw new Error(`etcd did not become healthy again: ${(err as Error).message}\n--- ${etcd.logFile} ---\n${tail(etcd.logFile)}`, { cause: err });
  });
  if (outcome === 'exited') throw new Error(`etcd exited while restarting\n--- ${etcd.logFile} ---\n${tail(etcd.logFile)}`);
}
