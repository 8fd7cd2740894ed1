/**
 * `node scripts/dist/local-cluster-cli.js up|down|status [--machines N] [--dir D]`: a local fleet
 * cluster (etcd, dockerd, one systemd --user + fleetd per machine) that outlives this command.
 * Every PID is recorded in `<dir>/state.json`; `down` stops exactly those.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  clusterLiveness,
  implementationOf,
  readClusterState,
  repoRoot,
  startLocalCluster,
  stopLocalCluster,
  toLocalMachine,
  type ClusterState,
  type FleetdImplementation,
} from './local-cluster/cluster.js';
import { displayPath, fleetctlBin } from './local-cluster/paths.js';
import { referenceFleetctl } from './local-cluster/reference-fleet.js';

const usage = 'usage: local-cluster-cli up [--machines N] [--implementation ours|reference] [--reference-dir R] [--dir D] | down [--dir D] | status [--dir D]';

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      machines: { type: 'string' },
      dir: { type: 'string' },
      implementation: { type: 'string' },
      'reference-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help === true || command === undefined || positionals.length > 1) {
    process.stderr.write(`${usage}\n`);
    return values.help === true ? 0 : 2;
  }
  const dir = resolve(values.dir ?? join(repoRoot, '.local-cluster'));
  switch (command) {
    case 'up':
      return up(dir, {
        machines: parseMachines(values.machines),
        implementation: parseImplementation(values.implementation),
        ...(values['reference-dir'] === undefined ? {} : { referenceDir: values['reference-dir'] }),
      });
    case 'down':
      return down(dir);
    case 'status':
      return status(dir);
    default:
      process.stderr.write(`unknown command ${command}\n${usage}\n`);
      return 2;
  }
}

function parseMachines(text: string | undefined): number {
  if (text === undefined) return 3;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 250) throw new Error(`--machines must be an integer from 1 to 250, not ${text}`);
  return n;
}

function parseImplementation(text: string | undefined): FleetdImplementation {
  if (text === undefined || text === 'ours' || text === 'reference') return text ?? 'ours';
  throw new Error(`--implementation must be ours or reference, not ${text}`);
}

async function up(dir: string, opts: { machines: number; implementation: FleetdImplementation; referenceDir?: string }): Promise<number> {
  const { machines } = opts;
  const previous = readClusterState(dir);
  if (previous !== undefined) {
    const processes = clusterLiveness(previous);
    const dead = processes.filter((p) => !p.alive);
    if (processes.length > 0 && dead.length === 0) {
      print(`a local cluster already runs in ${dir}`);
      printStatus(previous, processes);
      writeFleetctlWrapper(previous);
      printHowTo(previous);
      return 0;
    }
    print(`the cluster in ${dir} is only partly running (${dead.map((p) => `${p.what} PID ${p.pid}`).join(', ')} gone): stopping the rest and starting fresh`);
    for (const line of await stopLocalCluster(dir)) print(`  ${line}`);
  }
  // Ctrl-C while starting: stop what state.json has recorded so far instead of leaving it behind.
  const onSignal = (signal: NodeJS.Signals): void => {
    print(`${signal}: stopping what was started`);
    void stopLocalCluster(dir).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  print(`starting a ${machines}-machine cluster${opts.implementation === 'reference' ? ' of the original fleetd' : ''} in ${dir}`);
  await startLocalCluster({ ...opts, dir, log: (line) => print(`  ${line}`) });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  print(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const state = readClusterState(dir);
  if (state === undefined) throw new Error(`${dir}/state.json disappeared right after the cluster started`);
  printStatus(state);
  writeFleetctlWrapper(state);
  printHowTo(state);
  return 0;
}

async function down(dir: string): Promise<number> {
  const stopped = await stopLocalCluster(dir);
  if (stopped.length === 0) print(`no local cluster runs in ${dir}`);
  for (const line of stopped) print(line);
  return 0;
}

function status(dir: string): number {
  const state = readClusterState(dir);
  if (state === undefined) {
    print(`no local cluster in ${dir} (start one with npm run cluster:up)`);
    return 0;
  }
  const processes = clusterLiveness(state);
  printStatus(state, processes);
  if (processes.every((p) => p.alive)) printHowTo(state);
  else print('some processes are gone: npm run cluster:down, then npm run cluster:up');
  return 0;
}

function printStatus(state: ClusterState, processes = clusterLiveness(state)): void {
  const alive = new Map(processes.map((p) => [p.what, p.alive]));
  const pid = (what: string, p: number | undefined): string =>
    p === undefined ? '-' : `${p} (${alive.get(what) === true ? 'running' : 'gone'})`;
  print(`cluster ${state.name} (id ${state.clusterId}) in ${state.dir}, started ${state.createdAt}`);
  print(`  etcd     ${state.etcd?.clientUrl ?? '-'}  PID ${pid('etcd', state.etcd?.process.pid)}`);
  print(`  dockerd  ${state.dockerd === null ? 'an engine that already ran (not owned by this cluster)' : `PID ${pid('dockerd', state.dockerd.pid)}`}`);
  const rows = [['MACHINE', 'MACHINE ID', 'IP', 'METADATA', 'SYSTEMD PID', 'FLEETD PID', 'API']];
  for (const record of state.machines) {
    const m = toLocalMachine(record);
    rows.push([m.name, m.machineId, m.publicIp, m.metadata || '-', pid(`${m.name} systemd`, m.systemdPid), pid(`${m.name} fleetd`, m.fleetdPid), m.apiUrl]);
  }
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  for (const r of rows) print(`  ${r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()}`);
}

/** Writes `<dir>/fleetctl`: a shell script that runs fleetctl against machine 1 of the cluster. */
function writeFleetctlWrapper(state: ClusterState): void {
  const first = state.machines[0];
  if (first === undefined) return;
  const wrapper = join(state.dir, 'fleetctl');
  const endpoint = `unix://${first.apiSocket}`;
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `# fleetctl against the local cluster in ${state.dir} (written by local-cluster-cli up).`,
      `FLEETCTL_ENDPOINT=${shellQuote(endpoint)}`,
      'export FLEETCTL_ENDPOINT',
      `exec ${fleetctlCommand(state).map(shellQuote).join(' ')} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
}

/** Prints how to point fleetctl at the cluster, where its logs are and how to stop it. */
function printHowTo(state: ClusterState): void {
  const first = state.machines[0];
  if (first === undefined) return;
  print('');
  print('use fleetctl against it:');
  print(`  ${displayPath(join(state.dir, 'fleetctl'))} list-machines`);
  print('or:');
  print(`  export FLEETCTL_ENDPOINT=unix://${first.apiSocket}`);
  const shown = fleetctlCommand(state).map((part) => (part === process.execPath ? 'node' : displayPath(part)));
  print(`  ${shown.join(' ')} list-machines`);
  print(`logs: ${state.dir}/m*/fleetd.log, ${state.dir}/m*/systemd.log, ${state.dir}/etcd/etcd.log`);
  print(`stop it: npm run cluster:down${state.dir === resolve(repoRoot, '.local-cluster') ? '' : ` -- --dir ${state.dir}`}`);
}

/** The fleetctl that matches the cluster's fleetd: ours (run by node) or the original binary. */
function fleetctlCommand(state: ClusterState): string[] {
  const referenceDir = state.options.referenceDir;
  if (implementationOf(state) === 'reference' && referenceDir !== undefined) return [referenceFleetctl(referenceDir)];
  return [process.execPath, fleetctlBin];
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

// `... | head` closes stdout early; that is no reason to fail (or to stop halfway through `up`).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`local-cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
