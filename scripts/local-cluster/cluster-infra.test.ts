import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterLiveness, readClusterState, startLocalCluster, stopLocalCluster, type LocalCluster, type LocalMachine } from './cluster.js';
import { ensureBusyboxImage, ensureDocker, type DockerDaemon } from './docker.js';
import { isEtcdHealthy, startEtcd } from './etcd.js';
import { httpRequest } from './http.js';
import { journaldAccepts } from './journald.js';
import { isAlive, pollUntil } from './processes.js';
import { startSystemdUser, stopSystemdUser, type SystemdUserInstance } from './systemd-user.js';

// Real etcd, dockerd and systemd: a part that cannot start fails its test with the reason (the
// start functions throw with the log tail); nothing here is skipped.
const exec = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'fleet-infra-'));
const timings: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  // Last started, first stopped; every cleanup runs even if one fails.
  const errors: unknown[] = [];
  for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => errors.push(err));
  rmSync(root, { recursive: true, force: true });
  process.stdout.write(`infrastructure timings: ${timings.join('; ')}\n`);
  if (errors.length > 0) throw errors[0];
}, 120_000);

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await f();
  timings.push(`${what} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return value;
}

describe('local cluster infrastructure', () => {
  it('starts etcd on free loopback ports, answers health, and stops its PID', async () => {
    const etcd = await timed('etcd start', () => startEtcd({ dir: join(root, 'etcd'), logFile: join(root, 'etcd.log') }));
    cleanups.push(() => etcd.stop());
    expect(etcd.clientUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await isEtcdHealthy(etcd.clientUrl)).toBe(true);
    // A write and a read through etcd's v3 JSON gateway (etcdctl is not part of etcd-server on Debian).
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const v3 = async (path: string, body: unknown): Promise<unknown> => {
      const res = await httpRequest({ url: `${etcd.clientUrl}/v3/kv/${path}` }, { method: 'POST', body });
      expect(res.status).toBe(200);
      return JSON.parse(res.body) as unknown;
    };
    await v3('put', { key: b64('/infra-test'), value: b64('ok') });
    const got = (await v3('range', { key: b64('/infra-test') })) as { kvs?: { value: string }[] };
    expect(got.kvs?.map((kv) => Buffer.from(kv.value, 'base64').toString())).toEqual(['ok']);
    await etcd.stop();
    expect(isAlive(etcd.process.pid)).toBe(false);
    expect(await isEtcdHealthy(etcd.clientUrl)).toBe(false);
  }, 60_000);

  it('runs a container of the offline busybox image on the Docker engine', async () => {
    const docker: DockerDaemon = await timed('dockerd ensure', () => ensureDocker({ dir: root, logFile: join(root, 'dockerd.log') }));
    cleanups.push(() => docker.stop());
    if (docker.startedPid === undefined) timings.push('(dockerd already ran: reused)');
    const { built } = await timed('busybox image ensure', () => ensureBusyboxImage());
    if (!built) timings.push('(image existed)');
    const { stdout } = await exec('docker', ['run', '--rm', '--network', 'none', 'fleet-busybox:latest', 'echo', 'ok'], { timeout: 60_000 });
    expect(stdout.trim()).toBe('ok');
  }, 180_000);

  it('starts two systemd user instances with distinct buses and cgroups, and stops them cleanly', async () => {
    const id = Math.random().toString(16).slice(2, 8);
    const start = (name: string): Promise<SystemdUserInstance> =>
      startSystemdUser({ runtimeDir: join(root, name, 'runtime'), cgroup: `fleet-test-${id}-${name}`, logFile: join(root, `${name}-systemd.log`) });
    const a = await timed('systemd --user start', () => start('a'));
    cleanups.push(() => stopSystemdUser(a));
    const b = await start('b');
    cleanups.push(() => stopSystemdUser(b));
    expect(a.busAddress).not.toBe(b.busAddress);
    for (const instance of [a, b]) {
      // Each instance answers on its own bus and runs in its own cgroup.
      const { stdout } = await exec('systemctl', ['--user', 'show', '--property', 'Version'], {
        env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: instance.busAddress, XDG_RUNTIME_DIR: instance.runtimeDir },
      });
      expect(stdout).toMatch(/^Version=\d+/);
      expect(readFileSync(`/proc/${instance.process.pid}/cgroup`, 'utf8')).toContain(`/${instance.cgroup}`);
    }
    await Promise.all([stopSystemdUser(a), stopSystemdUser(b)]);
    for (const instance of [a, b]) {
      expect(isAlive(instance.process.pid)).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/systemd/${instance.cgroup}`)).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/unified/${instance.cgroup}`)).toBe(false);
    }
  }, 90_000);

  it('records every PID of a cluster in state.json and stops exactly those from the dir alone', async () => {
    const dir = join(root, 'cluster');
    const cluster = await timed('2-machine cluster without fleetd', () => startLocalCluster({ dir, machines: 2, withFleetd: false }));
    cleanups.push(() => stopLocalCluster(dir));
    const state = readClusterState(dir);
    expect(state?.machines.map((m) => m.name)).toEqual(['m1', 'm2']);
    expect(new Set(cluster.machines.map((m) => m.cgroup)).size).toBe(2);
    expect(cluster.machines.every((m) => m.cgroup.startsWith(`fleet-${cluster.clusterId}-`))).toBe(true);
    expect(cluster.machines.map((m) => m.publicIp)).toEqual(['127.0.1.1', '127.0.1.2']);
    const ids = cluster.machines.map((m) => m.machineId);
    expect(ids.every((mid) => /^[0-9a-f]{32}$/.test(mid))).toBe(true);
    if (state === undefined) throw new Error('state.json missing');
    const processes = clusterLiveness(state);
    expect(processes.filter((p) => p.alive).map((p) => p.what)).toEqual(
      expect.arrayContaining(['etcd', 'm1 systemd', 'm2 systemd']),
    );

    const stopped = await stopLocalCluster(dir);
    expect(stopped).toEqual(expect.arrayContaining([expect.stringMatching(/^stopped etcd/), expect.stringMatching(/^stopped m1 systemd/)]));
    // dockerd and journald are shared: left running while others use them (see stopLocalCluster).
    for (const p of processes) if (p.what !== 'dockerd' && p.what !== 'journald') expect(isAlive(p.pid), p.what).toBe(false);
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
    expect(await stopLocalCluster(dir)).toEqual([]);

    // A second start in the same dir keeps the machine ids.
    const again = await startLocalCluster({ dir, machines: 2, withFleetd: false });
    expect(again.machines.map((m) => m.machineId)).toEqual(ids);
    await again.stop();
  }, 180_000);
  it("starts journald before the machines, so a unit's output reaches the journal, and stops only a journald it started", async () => {
    const dir = join(root, 'journal');
    const cluster = await timed('1-machine cluster without fleetd', () => startLocalCluster({ dir, machines: 1, withFleetd: false }));
    cleanups.push(() => stopLocalCluster(dir));
    timings.push(cluster.journaldPid === undefined ? '(journald already ran: reused)' : `(journald started: PID ${cluster.journaldPid})`);
    expect(await journaldAccepts()).toBe(true);
    const recorded = readClusterState(dir)?.journald ?? null;
    expect(recorded?.pid).toBe(cluster.journaldPid);

    const m1 = cluster.machines[0];
    if (m1 === undefined) throw new Error('no machine m1');
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: m1.busAddress, XDG_RUNTIME_DIR: m1.runtimeDir };
    const unit = `journal-probe-${cluster.clusterId}.service`;
    mkdirSync(join(m1.runtimeDir, 'systemd', 'user'), { recursive: true });
    writeFileSync(join(m1.runtimeDir, 'systemd', 'user', unit), "[Service]\nExecStart=/bin/sh -c 'echo probe-from-m1; sleep 1000'\n");
    await exec('systemctl', ['--user', 'daemon-reload'], { env });
    await exec('systemctl', ['--user', 'start', unit], { env });
    // journald knows the unit only by its cgroup (the instance runs outside user@.service).
    const match = `_SYSTEMD_CGROUP=/${m1.cgroup}/app.slice/${unit}`;
    const logged = await pollUntil('the probe line in the journal', async () => {
      const { stdout } = await exec('journalctl', ['--no-pager', '--quiet', '-o', 'cat', match]);
      return stdout.trim() === '' ? undefined : stdout.trim();
    }, { timeoutMs: 15_000 });
    expect(logged).toBe('probe-from-m1');

    const stopped = await stopLocalCluster(dir);
    if (cluster.journaldPid === undefined) {
      expect(stopped.some((line) => line.includes('journald'))).toBe(false); // not ours to stop
    } else {
      const line = stopped.find((l) => l.includes(`journald (PID ${cluster.journaldPid})`));
      // Ours: stopped, unless units of another cluster or test run were still writing to it.
      expect(line).toMatch(/^(stopped journald|left journald .* running: .*output stream)/);
      if (line?.startsWith('stopped') === true) expect(isAlive(cluster.journaldPid)).toBe(false);
    }
  }, 120_000);

  it('runs fleetd on every machine, and kills, restarts and adds machines', async () => {
    const dir = join(root, 'fleet');
    const cluster: LocalCluster = await timed('2-machine cluster with fleetd', () => startLocalCluster({ dir, machines: 2, agentTtl: '5s' }));
    cleanups.push(() => cluster.stop());
    const machine = (index: number): LocalMachine => {
      const m = cluster.machines.find((mm) => mm.index === index);
      if (m === undefined) throw new Error(`no machine ${index}`);
      return m;
    };
    const listedBy = async (m: LocalMachine): Promise<string[]> => {
      const res = await httpRequest({ url: `${m.apiUrl}/fleet/v1/machines` });
      return (JSON.parse(res.body) as { machines: { id: string }[] }).machines.map((mm) => mm.id).sort();
    };
    const ids = cluster.machines.map((m) => m.machineId).sort();
    // Over the TCP listener too, each fleetd comes to see every machine of the cluster.
    await pollUntil('both fleetds to list both machines', async () => {
      const seen = await Promise.all(cluster.machines.map(listedBy));
      return seen.every((s) => s.join() === ids.join()) ? true : undefined;
    }, { timeoutMs: 20_000 });

    const killed = machine(2).fleetdPid;
    if (killed === undefined) throw new Error('m2 has no fleetd');
    await cluster.killFleetd(2);
    expect(isAlive(killed)).toBe(false);
    expect(machine(2).fleetdPid).toBeUndefined();
    expect(readClusterState(dir)?.machines[1]?.fleetd).toBeNull();

    const restarted = await cluster.restartFleetd(2);
    expect(restarted.fleetdPid).not.toBe(killed);
    expect(isAlive(restarted.fleetdPid ?? -1)).toBe(true);
    expect(restarted.machineId).toBe(machine(2).machineId);

    const added = await cluster.addMachine('rack=r3');
    expect([added.name, added.publicIp, added.metadata]).toEqual(['m3', '127.0.1.3', 'rack=r3']);
    expect(await listedBy(added)).toContain(added.machineId);
    expect(readClusterState(dir)?.machines.map((m) => m.name)).toEqual(['m1', 'm2', 'm3']);

    const pids = cluster.machines.flatMap((m) => [m.systemdPid, m.fleetdPid ?? -1]).concat(cluster.etcd.pid);
    await cluster.stop();
    for (const pid of pids) expect(isAlive(pid), `PID ${pid}`).toBe(false);
  }, 180_000);
});
