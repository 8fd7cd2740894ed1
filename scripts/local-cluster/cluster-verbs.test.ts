import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalClusterCli, type CliResult } from './cli-run.js';
import { readClusterState, writeState, type ClusterState, type MachineRecord } from './cluster-state.js';
import type { ClusterStatus } from './cluster-status.js';
import { isEtcdHealthy } from './etcd.js';
import { httpRequest } from './http.js';
import { fleetctlBin, repoRoot } from './paths.js';
import { isAlive, isRecordedAlive, pollUntil, recordProcess } from './processes.js';
import { userInstanceEnvironment } from './systemd-user.js';

// The CLI's verbs on one real 2-machine cluster (our fleetd), run as a user runs them, in order:
// each test leaves the cluster as the next one expects it.
const exec = promisify(execFile);
const dir = mkdtempSync('/tmp/fl-');
const cli = (...args: string[]): Promise<CliResult> => runLocalClusterCli([...args, '--dir', dir]);

beforeAll(async () => {
  const up = await cli('up', '--machines', '2', '--metadata', 'rack=r1', '--metadata', 'disk=ssd,rack=r2', '--agent-ttl', '5s', '--engine-reconcile-interval', '1');
  if (up.code !== 0) throw new Error(`cluster up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
});

afterAll(async () => {
  await cli('down');
  rmSync(dir, { recursive: true, force: true });
});

function state(): ClusterState {
  const s = readClusterState(dir);
  if (s === undefined) throw new Error(`no state.json in ${dir}`);
  return s;
}

function machine(name: string): MachineRecord {
  const m = state().machines.find((mm) => mm.name === name);
  if (m === undefined) throw new Error(`no machine ${name}`);
  return m;
}

/** Every recorded PID with its name, as `status --output json` should report them. */
function recordedPids(s = state()): Record<string, number> {
  const out: Record<string, number> = {};
  if (s.etcd !== null) out['etcd'] = s.etcd.process.pid;
  for (const m of s.machines) {
    out[`${m.name} systemd`] = m.systemd.pid;
    if (m.fleetd !== null) out[`${m.name} fleetd`] = m.fleetd.pid;
  }
  return out;
}

/** `GET /fleet/v1/machines` on m1: machine ID -> metadata. */
async function machinesSeenByM1(): Promise<Record<string, Record<string, string>>> {
  const res = await httpRequest({ socketPath: machine('m1').apiSocket, path: '/fleet/v1/machines' }, { timeoutMs: 5_000 });
  const body = JSON.parse(res.body) as { machines?: { id: string; metadata?: Record<string, string> }[] };
  return Object.fromEntries((body.machines ?? []).map((m) => [m.id, m.metadata ?? {}]));
}

/** A process that records each SIGHUP it gets in a file and ignores SIGTERM: a stand-in fleetd. */
async function startWitness(file: string): Promise<number> {
  const script = `const fs = require('fs'); process.on('SIGHUP', () => fs.appendFileSync(${JSON.stringify(file)}, 'HUP\\n')); process.on('SIGTERM', () => {}); setInterval(() => {}, 1e6); console.log('ready');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error('the witness did not start');
  return child.pid;
}

describe('local cluster CLI verbs', () => {
  it('up takes per-machine metadata and the agent TTL; status --output json reports every recorded process', async () => {
    const result = await cli('status', '--output', 'json');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as ClusterStatus;
    expect([status.implementation, status.agentTtl, status.engineReconcileInterval, status.up]).toEqual(['ours', '5s', 1, true]);
    expect(status.machines.map((m) => [m.name, m.publicIp, m.metadata])).toEqual([['m1', '127.0.1.1', 'rack=r1'], ['m2', '127.0.1.2', 'disk=ssd,rack=r2']]);
    const recorded = state();
    expect(status.machines.map((m) => [m.machineId, m.endpoint, m.busAddress])).toEqual(recorded.machines.map((m) => [m.machineId, `unix://${m.apiSocket}`, m.busAddress]));
    expect(status.etcd?.clientUrl).toBe(recorded.etcd?.clientUrl);
    const byName = Object.fromEntries(status.processes.map((p) => [p.what, p]));
    for (const [what, pid] of Object.entries(recordedPids(recorded))) expect(byName[what], what).toEqual({ what, pid, alive: true });
    // fleetd runs with that metadata.
    const seen = await pollUntil('m1 to list both machines', async () => {
      const machines = await machinesSeenByM1();
      return Object.keys(machines).length === 2 ? machines : undefined;
    }, { timeoutMs: 20_000 });
    expect(seen).toEqual({ [machine('m1').machineId]: { rack: 'r1' }, [machine('m2').machineId]: { disk: 'ssd', rack: 'r2' } });
  });

  it.each([
    { args: ['kill', 'm9'], code: 2, message: 'no machine "m9" in the cluster' },
    { args: ['reload'], code: 2, message: 'reload takes exactly one machine' },
    { args: ['add', '--metadata', 'rack'], code: 2, message: 'bad metadata "rack"' },
    { args: ['stop', 'm1', '--timeout', 'soon'], code: 2, message: '--timeout must be a duration' },
    { args: ['kill', 'm1', '--metadata', 'a=b'], code: 2, message: 'kill does not take --metadata' },
    { args: ['etcd', 'restart'], code: 2, message: 'etcd takes stop or start' },
    { args: ['status', '--output', 'yaml'], code: 2, message: '--output must be text or json' },
    { args: ['up', '--machines', '1', '--metadata', 'a=1', '--metadata', 'a=2'], code: 2, message: '2 --metadata values for 1 machines' },
    { args: ['start', 'm1'], code: 1, message: 'fleetd of m1 already runs' },
    { args: ['etcd', 'start'], code: 1, message: 'already runs' },
  ])('refuses $args with exit status $code and changes nothing', async ({ args, code, message }) => {
    const before = readFileSync(join(dir, 'state.json'), 'utf8');
    const result = await cli(...args);
    expect([result.code, result.stdout]).toEqual([code, '']);
    expect(result.stderr).toContain(message);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(before);
    for (const [what, pid] of Object.entries(recordedPids())) expect(isAlive(pid), what).toBe(true);
  });

  it('refuses a verb on a dir where no cluster is up, with exit status 1', async () => {
    const empty = mkdtempSync('/tmp/fl-none-');
    try {
      const result = await runLocalClusterCli(['kill', 'm1', '--dir', empty]);
      expect([result.code, result.stderr]).toEqual([1, `local-cluster: no local cluster in ${empty} (start one with npm run cluster:up)\n`]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('env exports what eval needs for systemctl --user and fleetctl to reach that machine', async () => {
    const m2 = machine('m2');
    const probe = `env-probe-${state().clusterId}.service`;
    await exec('systemd-run', ['--user', `--unit=${probe}`, '/bin/sleep', '1000'], { env: { ...process.env, ...userInstanceEnvironment(m2) } });
    // Exactly as documented, with an unquoted $(...) and npm in the middle.
    const script = `eval $(npm run -s cluster -- env m2 --dir '${dir}') && systemctl --user list-units --plain --no-legend '${probe}' && echo "endpoint=$FLEETCTL_ENDPOINT" && '${process.execPath}' '${fleetctlBin}' list-machines --no-legend --full`;
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'FLEETCTL_ENDPOINT'].includes(k)));
    const { stdout } = await exec('/bin/sh', ['-c', script], { cwd: repoRoot, env: clean, timeout: 60_000 });
    expect(stdout).toMatch(new RegExp(`^${probe.replaceAll('.', '\\.')}\\s+loaded\\s+active\\s+running`, 'm'));
    expect(stdout).toContain(`endpoint=unix://${m2.apiSocket}\n`);
    expect(stdout).toContain(m2.machineId);
    await exec('systemctl', ['--user', 'stop', probe], { env: { ...process.env, ...userInstanceEnvironment(m2) } });
  });

  it('kill SIGKILLs that machine\'s fleetd and nothing else; start brings it back with the same machine ID and metadata', async () => {
    const before = recordedPids();
    const m2 = machine('m2');
    const result = await cli('kill', 'm2');
    expect([result.code, result.stdout]).toEqual([0, `m2: fleetd PID ${before['m2 fleetd']} killed (SIGKILL)\n`]);
    expect(isAlive(before['m2 fleetd'] ?? -1)).toBe(false);
    expect(machine('m2').fleetd).toBeNull();
    for (const what of ['etcd', 'm1 systemd', 'm1 fleetd', 'm2 systemd']) expect(isAlive(before[what] ?? -1), what).toBe(true);

    const started = await cli('start', 'm2');
    expect(started.code).toBe(0);
    const again = machine('m2');
    expect(again.fleetd?.pid).not.toBe(before['m2 fleetd']);
    expect(isRecordedAlive(again.fleetd ?? { pid: -1, startTime: null })).toBe(true);
    expect([again.machineId, again.metadata, again.apiSocket]).toEqual([m2.machineId, m2.metadata, m2.apiSocket]);
    await pollUntil('m1 to list m2 with its metadata again', async () => ((await machinesSeenByM1())[m2.machineId]?.['disk'] === 'ssd' ? true : undefined), { timeoutMs: 20_000 });
  });

  it('stop is graceful and exits 0 when SIGTERM sufficed', async () => {
    const pid = machine('m2').fleetd?.pid;
    const result = await cli('stop', 'm2');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^m2: fleetd PID ${pid} exited cleanly after SIGTERM in `));
    expect(isAlive(pid ?? -1)).toBe(false);
    expect(machine('m2').fleetd).toBeNull();
  });

  it("reload sends SIGHUP to the machine's recorded fleetd only; stop exits 1 when it had to SIGKILL", async () => {
    // A stand-in recorded as m2's fleetd: it logs SIGHUPs and ignores SIGTERM, whatever fleetd
    // itself does on either signal.
    const hups = join(dir, 'witness-hups');
    const witness = await startWitness(hups);
    const s = state();
    const m2 = s.machines.find((m) => m.name === 'm2');
    if (m2 === undefined) throw new Error('no m2');
    m2.fleetd = recordProcess(witness);
    writeState(s);
    const m1Fleetd = machine('m1').fleetd?.pid;

    const reload = await cli('reload', 'm2');
    expect([reload.code, reload.stdout]).toEqual([0, `m2: sent SIGHUP to fleetd PID ${witness}\n`]);
    // pollUntil treats a throw (no file yet) as "not yet".
    await pollUntil('the witness to log the SIGHUP', () => (readFileSync(hups, 'utf8') === 'HUP\n' ? true : undefined), { timeoutMs: 5_000 });
    expect(machine('m1').fleetd?.pid).toBe(m1Fleetd);
    expect(isAlive(m1Fleetd ?? -1)).toBe(true);

    const stop = await cli('stop', 'm2', '--timeout', '1s');
    expect([stop.code, stop.stdout]).toEqual([1, `m2: fleetd PID ${witness} was still running 1 s after SIGTERM: SIGKILLed\n`]);
    expect(isAlive(witness)).toBe(false);
    expect(machine('m2').fleetd).toBeNull();
    expect((await cli('start', 'm2')).code).toBe(0);
  });

  it('add: a new machine with its own ID and the given metadata joins', async () => {
    const result = await cli('add', '--metadata', 'rack=r3,role=extra');
    expect(result.code).toBe(0);
    const m3 = machine('m3');
    expect(result.stdout).toContain(`added m3: machine ${m3.machineId}, IP 127.0.1.3, metadata rack=r3,role=extra`);
    expect(new Set(state().machines.map((m) => m.machineId)).size).toBe(3);
    expect(isRecordedAlive(m3.systemd)).toBe(true);
    expect(m3.fleetd !== null && isRecordedAlive(m3.fleetd)).toBe(true);
    await pollUntil('m1 to list m3 with its metadata', async () => ((await machinesSeenByM1())[m3.machineId]?.['role'] === 'extra' ? true : undefined), { timeoutMs: 20_000 });
  });

  it('etcd stop and etcd start keep the data and the URL; the fleetds carry on', async () => {
    const { clientUrl, process: before } = state().etcd ?? { clientUrl: '', process: { pid: -1 } };
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const v3 = (path: string, body: unknown): Promise<{ status: number; body: string }> => httpRequest({ url: `${clientUrl}/v3/kv/${path}` }, { method: 'POST', body });
    expect((await v3('put', { key: b64('/verbs-test'), value: b64('kept') })).status).toBe(200);

    const stop = await cli('etcd', 'stop');
    expect(stop.code).toBe(0);
    expect(isAlive(before.pid)).toBe(false);
    expect(await isEtcdHealthy(clientUrl)).toBe(false);
    expect((JSON.parse((await cli('status', '--output', 'json')).stdout) as ClusterStatus).etcd).toMatchObject({ pid: before.pid, alive: false });
    expect((await cli('etcd', 'stop')).code).toBe(1);

    const start = await cli('etcd', 'start');
    expect(start.code).toBe(0);
    expect(state().etcd?.clientUrl).toBe(clientUrl);
    expect(state().etcd?.process.pid).not.toBe(before.pid);
    const got = JSON.parse((await v3('range', { key: b64('/verbs-test') })).body) as { kvs?: { value: string }[] };
    expect(got.kvs?.map((kv) => Buffer.from(kv.value, 'base64').toString())).toEqual(['kept']);
    await pollUntil('m1 to list all three machines again', async () => (Object.keys(await machinesSeenByM1()).length === 3 ? true : undefined), { timeoutMs: 30_000 });
  });

  it('down stops every recorded process', async () => {
    const pids = recordedPids();
    const result = await cli('down');
    expect(result.code).toBe(0);
    for (const [what, pid] of Object.entries(pids)) expect(isAlive(pid), what).toBe(false);
    expect(readClusterState(dir)).toBeUndefined();
  });
});
