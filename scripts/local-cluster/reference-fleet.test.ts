import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalClusterCli, type CliResult } from './cli-run.js';
import { readClusterState, repoRoot, startLocalCluster, type LocalCluster, type LocalMachine } from './cluster.js';
import { isAlive, pollUntil } from './processes.js';
import { referenceFleetctl, referenceFleetDir } from './reference-fleet.js';
import { userInstanceEnvironment } from './systemd-user.js';

// The ORIGINAL fleetd run by our cluster scripts, driven by the ORIGINAL fleetctl. Without
// FLEET_REFERENCE_DIR every test fails with the reason (CI sets it): nothing is skipped, which is
// why beforeAll records the reason instead of throwing it (vitest would skip the tests then).
const exec = promisify(execFile);
// Keys in alphabetical order: fleetctl prints them sorted.
const metadata = ['host=m1,rack=r1', 'host=m2,rack=r2'];
let cluster: LocalCluster | undefined;
let dir: string | undefined;
const found = referenceFleetDir();
let refDir = '';

beforeAll(async () => {
  if (!found.ok) return;
  refDir = found.dir;
  dir = mkdtempSync('/tmp/fl-');
  cluster = await startLocalCluster({ dir, machines: 2, metadata, implementation: 'reference', agentTtl: '5s', engineReconcileInterval: 1, name: 'ref' });
});

afterAll(async () => {
  await cluster?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function started(): LocalCluster {
  if (!found.ok) throw new Error(found.why);
  if (cluster === undefined) throw new Error('the reference cluster did not start');
  return cluster;
}

function machine(index: number): LocalMachine {
  const m = started().machines.find((mm) => mm.index === index);
  if (m === undefined) throw new Error(`no machine ${index}`);
  return m;
}

/** The original fleetctl against machine `m`'s API socket. */
async function fleetctl(m: LocalMachine, ...args: string[]): Promise<string> {
  const { stdout } = await exec(referenceFleetctl(refDir), ['--endpoint', `unix://${m.apiSocket}`, ...args], { cwd: started().dir, timeout: 60_000 });
  return stdout;
}

function systemctl(m: LocalMachine, ...args: string[]): Promise<{ stdout: string }> {
  return exec('systemctl', ['--user', ...args], { env: { ...process.env, ...userInstanceEnvironment(m) } });
}

describe('referenceFleetDir', () => {
  it('says which variable is missing, and resolves a relative value from the repository root', () => {
    if (!found.ok) throw new Error(found.why);
    const unset = referenceFleetDir({});
    expect(unset.ok).toBe(false);
    if (!unset.ok) expect(unset.why).toMatch(/^FLEET_REFERENCE_DIR is not set/);
    expect(referenceFleetDir({ FLEET_REFERENCE_DIR: relative(repoRoot, refDir) })).toEqual({ ok: true, dir: refDir });
  });

  it('names the folder or the binary that is missing', () => {
    const scratch = mkdtempSync('/tmp/fl-ref-');
    try {
      const missing = referenceFleetDir({ FLEET_REFERENCE_DIR: join(scratch, 'nowhere') });
      expect(missing).toEqual({ ok: false, why: `FLEET_REFERENCE_DIR=${join(scratch, 'nowhere')}: ${join(scratch, 'nowhere')} is not a folder` });
      mkdirSync(join(scratch, 'bin'));
      writeFileSync(join(scratch, 'bin', 'fleetd'), '#!/bin/sh\n');
      chmodSync(join(scratch, 'bin', 'fleetd'), 0o755);
      writeFileSync(join(scratch, 'bin', 'fleetctl'), '#!/bin/sh\n');
      const notExecutable = referenceFleetDir({ FLEET_REFERENCE_DIR: join(scratch, 'bin') });
      expect(notExecutable).toEqual({ ok: false, why: `FLEET_REFERENCE_DIR=${join(scratch, 'bin')}: ${join(scratch, 'bin', 'fleetctl')} is not an executable file` });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('a local cluster of the original fleetd', () => {
  it("records the implementation, and each machine's recorded PID is the original fleetd itself", () => {
    const state = readClusterState(started().dir);
    expect(state?.options.implementation).toBe('reference');
    expect(state?.options.referenceDir).toBe(refDir);
    for (const m of started().machines) {
      // unshare, sh and systemd-socket-activate exec'd one after the other: the PID is fleetd's.
      expect(readlinkSync(`/proc/${m.fleetdPid ?? -1}/exe`), m.name).toBe(join(refDir, 'fleetd'));
    }
  });

  it('lists both machines with their metadata through the original fleetctl, over the socket and over TCP', async () => {
    const expected = started().machines.map((m, i) => `${m.machineId}\t${m.publicIp}\t${metadata[i]}`).sort();
    const rows = (text: string): string[] => text.trim().split('\n').map((line) => line.replace(/\t+/g, '\t')).sort();
    expect(rows(await fleetctl(machine(1), 'list-machines', '--full', '--no-legend'))).toEqual(expected);
    const { stdout } = await exec(referenceFleetctl(refDir), ['--endpoint', machine(2).apiUrl, 'list-machines', '--full', '--no-legend']);
    expect(rows(stdout)).toEqual(expected);
  });

  it('takes the CLI verbs: stop ends it cleanly, start brings back the same machine, reload signals it', async () => {
    const cli = (...args: string[]): Promise<CliResult> => runLocalClusterCli([...args, '--dir', started().dir]);
    const before = machine(1);
    const stop = await cli('stop', 'm1');
    expect([stop.code, stop.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^m1: fleetd PID ${before.fleetdPid} exited cleanly after SIGTERM`))]);
    expect(isAlive(before.fleetdPid ?? -1)).toBe(false);
    expect((await cli('start', 'm1')).code).toBe(0);
    const after = machine(1);
    expect(readlinkSync(`/proc/${after.fleetdPid ?? -1}/exe`)).toBe(join(refDir, 'fleetd'));
    expect([after.machineId, after.metadata]).toEqual([before.machineId, before.metadata]);
    const listed = await fleetctl(after, 'list-machines', '--full', '--no-legend');
    expect(listed).toContain(`${after.machineId}\t${after.publicIp}\t${after.metadata}`);
    // The original reloads its config on SIGHUP and keeps running.
    const reload = await cli('reload', 'm2');
    expect([reload.code, reload.stdout]).toEqual([0, `m2: sent SIGHUP to fleetd PID ${machine(2).fleetdPid}\n`]);
    await pollUntil('m2 fleetd to log the reload', () => (readFileSync(machine(2).fleetdLog, 'utf8').includes('Reloading configuration') ? true : undefined), { timeoutMs: 10_000 });
    expect(isAlive(machine(2).fleetdPid ?? -1)).toBe(true);
  });

  it('runs a unit started through the original fleetctl; stop leaves no recorded PID and no unit process behind', async () => {
    // One unit per machine, pinned: m2's fleetd is then SIGKILLed, so its unit is left for stop to
    // clean up through systemd, while m1's fleetd stops its own on SIGTERM.
    const units = started().machines.map((m) => {
      const name = `ref-sleep-${m.name}.service`;
      writeFileSync(join(started().dir, name), `[Service]\nExecStart=/bin/sleep 100000\n\n[X-Fleet]\nMachineID=${m.machineId}\n`);
      return name;
    });
    await fleetctl(machine(1), 'start', ...units);
    const listed = await pollUntil('both units active/running in list-units', async () => {
      const text = await fleetctl(machine(1), 'list-units', '--full', '--no-legend', '--fields', 'unit,machine,active,sub');
      return text.split('\n').filter((l) => l.endsWith('active\trunning')).length === 2 ? text : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expect(listed.trim().split('\n').sort()).toEqual(started().machines.map((m, i) => `${units[i]}\t${m.machineId}/${m.publicIp}\tactive\trunning`).sort());
    const unitPids = await Promise.all(started().machines.map(async (m, i) => {
      const { stdout } = await systemctl(m, 'show', '--property', 'MainPID', '--value', units[i] ?? '');
      return Number(stdout.trim());
    }));
    expect(unitPids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);

    await started().killFleetd(2);
    const state = readClusterState(started().dir);
    const recorded = [state?.etcd?.process.pid, ...(state?.machines.flatMap((m) => [m.systemd.pid, m.fleetd?.pid]) ?? [])].filter((pid) => pid !== undefined);
    expect(recorded).toHaveLength(4);
    const lines = await started().stop();
    expect(lines).toContain(`stopped m2's leftover units through systemd: ${units[1]}`);
    for (const pid of [...recorded, ...unitPids]) expect(isAlive(pid), `PID ${pid}`).toBe(false);
    expect(readClusterState(started().dir)).toBeUndefined();
  });
});
