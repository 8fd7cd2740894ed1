/**
 * `node scripts/dist/local-cluster-cli.js <verb> [--dir D] ...` (`npm run cluster -- <verb>`): a
 * local fleet cluster (etcd, dockerd, one systemd --user + fleetd per machine, our fleetd or the
 * original) that outlives this command, and the verbs fleet's functional tests use on their
 * machines (kill, stop, start, add, reload, etcd stop/start, env). Every PID is recorded in
 * `<dir>/state.json`; every verb acts only on those. Exit status: 0 done, 1 failed (or `stop`
 * had to SIGKILL), 2 bad usage; a refused verb changes nothing.
 */
import { join, resolve } from 'node:path';
import { parseCliCommand, usage, type CliCommand } from './local-cluster/cli-command.js';
import {
  addMachine,
  killFleetd,
  machineNamed,
  requireCluster,
  signalFleetd,
  startClusterEtcd,
  startFleetdAgain,
  stopClusterEtcd,
  stopFleetdGracefully,
} from './local-cluster/cluster-control.js';
import { exportLines, fleetctlCommand, writeFleetctlWrapper } from './local-cluster/cluster-shell.js';
import { clusterStatus, statusLines } from './local-cluster/cluster-status.js';
import { LocalClusterError, readClusterState, repoRoot, startLocalCluster, stopLocalCluster, type ClusterState } from './local-cluster/cluster.js';
import { displayPath, seconds } from './local-cluster/paths.js';

const defaultDir = join(repoRoot, '.local-cluster');

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCliCommand(argv, defaultDir);
  switch (command.verb) {
    case 'help':
      print(usage);
      return 0;
    case 'up':
      return up(command);
    case 'down':
      return down(command.dir);
    case 'status':
      return status(command.dir, command.output);
    case 'etcd':
      return etcd(command.dir, command.action);
    case 'add': {
      const state = requireCluster(command.dir);
      const m = await addMachine(state, command.metadata, (line) => print(`  ${line}`));
      print(`added ${m.name}: machine ${m.machineId}, IP ${m.publicIp}, metadata ${m.metadata || '-'}, endpoint unix://${m.apiSocket}`);
      return 0;
    }
    default:
      return machineVerb(command);
  }
}

async function machineVerb(command: Extract<CliCommand, { machine: string }>): Promise<number> {
  const state = requireCluster(command.dir);
  const m = machineNamed(state, command.machine);
  switch (command.verb) {
    case 'kill': {
      const pid = await killFleetd(state, m, 'SIGKILL');
      print(`${m.name}: fleetd PID ${pid} killed (SIGKILL)`);
      return 0;
    }
    case 'stop': {
      const t0 = Date.now();
      const { pid, result } = await stopFleetdGracefully(state, m, command.timeoutMs);
      if (result === 'killed') {
        print(`${m.name}: fleetd PID ${pid} was still running ${command.timeoutMs / 1000} s after SIGTERM: SIGKILLed`);
        return 1;
      }
      print(`${m.name}: fleetd PID ${pid} exited cleanly after SIGTERM in ${seconds(t0)}`);
      return 0;
    }
    case 'start':
      await startFleetdAgain(state, m, print);
      return 0;
    case 'reload': {
      const pid = signalFleetd(m, 'SIGHUP');
      print(`${m.name}: sent SIGHUP to fleetd PID ${pid}`);
      return 0;
    }
    case 'env':
      for (const line of exportLines(m)) print(line);
      return 0;
  }
}

async function etcd(dir: string, action: 'stop' | 'start'): Promise<number> {
  const state = requireCluster(dir);
  if (action === 'start') {
    await startClusterEtcd(state, print);
    return 0;
  }
  const { pid, result } = await stopClusterEtcd(state);
  print(`etcd PID ${pid} ${result === 'killed' ? 'SIGKILLed (it did not exit within 10 s of SIGTERM)' : 'stopped'}; its data stays in ${join(dir, 'etcd', 'data')} for etcd start`);
  return 0;
}

async function up(command: Extract<CliCommand, { verb: 'up' }>): Promise<number> {
  const { dir, machines, implementation } = command;
  const previous = readClusterState(dir);
  if (previous !== undefined) {
    const { processes, up: running } = clusterStatus(previous);
    if (running) {
      print(`a local cluster already runs in ${dir}`);
      printStatusAndHowTo(previous);
      return 0;
    }
    const dead = processes.filter((p) => !p.alive);
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
  print(`starting a ${machines}-machine cluster${implementation === 'reference' ? ' of the original fleetd' : ''} in ${dir}`);
  await startLocalCluster({
    dir,
    machines,
    implementation,
    ...(command.metadata === undefined ? {} : { metadata: command.metadata }),
    ...(command.agentTtl === undefined ? {} : { agentTtl: command.agentTtl }),
    ...(command.engineReconcileInterval === undefined ? {} : { engineReconcileInterval: command.engineReconcileInterval }),
    ...(command.referenceDir === undefined ? {} : { referenceDir: command.referenceDir }),
    log: (line) => print(`  ${line}`),
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  print(`cluster up in ${seconds(t0)}`);
  const state = readClusterState(dir);
  if (state === undefined) throw new Error(`${dir}/state.json disappeared right after the cluster started`);
  printStatusAndHowTo(state);
  return 0;
}

async function down(dir: string): Promise<number> {
  const stopped = await stopLocalCluster(dir);
  if (stopped.length === 0) print(`no local cluster runs in ${dir}`);
  for (const line of stopped) print(line);
  return 0;
}

function status(dir: string, output: 'text' | 'json'): number {
  const state = readClusterState(dir);
  if (state === undefined) {
    if (output === 'json') print(JSON.stringify({ dir, up: false, machines: [] }, null, 2));
    else print(`no local cluster in ${dir} (start one with npm run cluster:up)`);
    return 0;
  }
  const current = clusterStatus(state);
  if (output === 'json') {
    print(JSON.stringify(current, null, 2));
    return 0;
  }
  for (const line of statusLines(current)) print(line);
  if (current.up) printHowTo(state);
  else print(`some processes are gone: npm run cluster -- start <machine> or etcd start, or npm run cluster:down, then npm run cluster:up`);
  return 0;
}

function printStatusAndHowTo(state: ClusterState): void {
  for (const line of statusLines(clusterStatus(state))) print(line);
  writeFleetctlWrapper(state);
  printHowTo(state);
}

/** Prints how to point fleetctl at the cluster, where its logs are and how to stop it. */
function printHowTo(state: ClusterState): void {
  const first = state.machines[0];
  if (first === undefined) return;
  const dirOption = state.dir === resolve(defaultDir) ? '' : ` --dir ${state.dir}`;
  const shown = fleetctlCommand(state).map((part) => (part === process.execPath ? 'node' : displayPath(part)));
  print('');
  print('use fleetctl against it:');
  print(`  ${displayPath(join(state.dir, 'fleetctl'))} list-machines`);
  print('or:');
  print(`  export FLEETCTL_ENDPOINT=unix://${first.apiSocket}`);
  print(`  ${shown.join(' ')} list-machines`);
  print(`a machine's fleetctl and systemctl --user: eval "$(npm run -s cluster -- env ${first.name}${dirOption})"`);
  print(`logs: ${state.dir}/m*/fleetd.log, ${state.dir}/m*/systemd.log, ${state.dir}/etcd/etcd.log`);
  print(`stop it: npm run cluster:down${dirOption === '' ? '' : ` --${dirOption}`}`);
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
    const usageProblem = err instanceof LocalClusterError && err.code === 'USAGE';
    process.stderr.write(`local-cluster: ${err instanceof Error ? err.message : String(err)}\n${usageProblem ? '(--help lists the verbs and their options)\n' : ''}`);
    process.exitCode = usageProblem ? 2 : 1;
  },
);
