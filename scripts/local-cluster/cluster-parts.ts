import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { implementationOf, writeState, type ClusterState, type MachineRecord } from './cluster-state.js';
import { ensureBusyboxImage, ensureDocker } from './docker.js';
import { freeLoopbackPorts, startEtcd } from './etcd.js';
import { fleetdConfig, fleetdConfigName, machineIdFor, startFleetd } from './fleetd-process.js';
import { ensureJournald } from './journald.js';
import { seconds } from './paths.js';
import { recordProcess } from './processes.js';
import { startSystemdUser } from './systemd-user.js';

// Unix socket paths are limited to 108 bytes; systemd's and fleetd's sockets live in the cluster dir.
const maxSocketPath = 100;

/**
 * Starts what the machines share: etcd (fresh data), the Docker engine (reused if one runs) and
 * the `fleet-busybox` image, and systemd-journald (reused if one runs). Records each process it
 * starts in state.json as soon as it exists.
 */
export async function startSharedParts(state: ClusterState, log: (line: string) => void): Promise<void> {
  const etcdDir = join(state.dir, 'etcd');
  // A fresh store each time: a cluster that is started again begins empty, like `up` promises.
  rmSync(join(etcdDir, 'data'), { recursive: true, force: true });
  const t0 = Date.now();
  const [docker, etcd, journald] = await Promise.allSettled([
    (async () => {
      const daemon = await ensureDocker({ dir: state.dir, logFile: join(state.dir, 'dockerd.log') });
      if (daemon.startedPid !== undefined) {
        state.dockerd = recordProcess(daemon.startedPid);
        writeState(state);
      }
      log(daemon.startedPid === undefined ? 'docker: reusing the running engine' : `docker: started dockerd PID ${daemon.startedPid} in ${seconds(t0)}`);
      const t1 = Date.now();
      const { built } = await ensureBusyboxImage();
      if (built) log(`docker: built image fleet-busybox:latest in ${seconds(t1)}`);
    })(),
    (async () => {
      // The original fleetd speaks only etcd's v2 API, which etcd 3.4 serves on request.
      const enableV2 = implementationOf(state) === 'reference';
      const started = await startEtcd({ dir: etcdDir, logFile: join(etcdDir, 'etcd.log'), name: state.name, enableV2 });
      state.etcd = { clientUrl: started.clientUrl, peerUrl: started.peerUrl, enableV2, logFile: started.process.logFile, process: recordProcess(started.process.pid) };
      writeState(state);
      log(`etcd: ${started.clientUrl} (PID ${started.process.pid}${enableV2 ? ', v2 API on' : ''}) ready in ${seconds(t0)}`);
    })(),
    (async () => {
      // Before any systemd instance: a unit started while no journald runs logs nowhere, for good.
      const daemon = await ensureJournald({ logFile: join(state.dir, 'journald.log') });
      if (daemon.startedPid !== undefined) {
        state.journald = recordProcess(daemon.startedPid);
        writeState(state);
      }
      log(daemon.startedPid === undefined ? 'journald: reusing the running one' : `journald: started PID ${daemon.startedPid} in ${seconds(t0)}`);
    })(),
  ]);
  if (etcd.status === 'rejected') throw etcd.reason;
  if (journald.status === 'rejected') throw journald.reason;
  if (docker.status === 'rejected') throw docker.reason;
}

/**
 * Starts machine `index` (`m<index>`): a `systemd --user` in its own cgroup, then (unless the
 * cluster runs without fleetd) its fleetd; resolves once that fleetd lists its own machine. The
 * machine is recorded in state.json as soon as its systemd runs.
 */
export async function startMachine(state: ClusterState, index: number, metadata: string, log: (line: string) => void): Promise<MachineRecord> {
  const name = `m${index}`;
  const machineDir = join(state.dir, name);
  const runtimeDir = join(machineDir, 'runtime');
  const apiSocket = join(machineDir, 'fleet.sock');
  for (const socket of [join(runtimeDir, 'bus'), join(runtimeDir, 'systemd', 'private'), apiSocket]) {
    if (socket.length > maxSocketPath) {
      throw new Error(`socket path too long for a unix socket (${socket.length} > ${maxSocketPath} bytes): ${socket}; use a shorter cluster dir`);
    }
  }
  mkdirSync(machineDir, { recursive: true });
  // A runtime dir left by a previous run may hold stale sockets; systemd recreates what it needs.
  rmSync(runtimeDir, { recursive: true, force: true });
  rmSync(apiSocket, { force: true });
  const unitsDirectory = join(machineDir, 'units');
  // The original fleetd takes every file in its units directory for a unit it loaded: a new
  // machine (or a cluster started again) must not inherit the files of a previous run.
  if (implementationOf(state) === 'reference') rmSync(unitsDirectory, { recursive: true, force: true });
  mkdirSync(unitsDirectory, { recursive: true });
  const [apiPort] = await freeLoopbackPorts(1);
  if (apiPort === undefined) throw new Error('the OS gave no free port');
  const cgroup = `fleet-${state.clusterId}-${name}`;
  const t0 = Date.now();
  const systemd = await startSystemdUser({ runtimeDir, cgroup, logFile: join(machineDir, 'systemd.log') });
  const machine: MachineRecord = {
    index,
    name,
    machineId: machineIdFor(machineDir),
    publicIp: `127.0.1.${index}`,
    metadata,
    unitsDirectory,
    busAddress: systemd.busAddress,
    runtimeDir,
    cgroup,
    apiSocket,
    apiUrl: `${state.options.apiTls === undefined ? 'http' : 'https'}://127.0.0.1:${apiPort}`,
    configFile: join(machineDir, fleetdConfigName(state)),
    systemdLog: systemd.process.logFile,
    fleetdLog: join(machineDir, 'fleetd.log'),
    systemd: recordProcess(systemd.process.pid),
    fleetd: null,
  };
  state.machines.push(machine);
  writeState(state);
  log(`${name}: systemd --user PID ${systemd.process.pid} (cgroup ${cgroup}) ready in ${seconds(t0)}`);
  writeFileSync(machine.configFile, fleetdConfig(state, machine));
  if (state.options.withFleetd) await startFleetd(state, machine, log);
  return machine;
}

