import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/local-cluster/cluster.js';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { clusterLogs, examplesDir, fleetctl, fleetctlArgs, fleetctlOk, pollUntil, useTestCluster } from './support.js';
import type { CommandResult } from './support.js';

// examples/deploy.sh rolling examples/app@.service out over 3 real machines (racks r1, r1, r2),
// then fleetctl journal and status of an instance on another machine, read through m1's API.
const cluster = useTestCluster({ machines: 3 });

const instances = ['app@1.service', 'app@2.service', 'app@3.service'];
// Each instance's start blocks up to 120 polls of 500 ms; three of them, plus the checks.
const deployTimeoutMs = 240_000;

/** Runs examples/deploy.sh against m1's API socket. */
function deploy(version: string, env: Readonly<Record<string, string>> = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(examplesDir, 'deploy.sh'), version],
      { cwd: repoRoot, timeout: deployTimeoutMs, env: { ...process.env, FLEETCTL: [process.execPath, ...fleetctlArgs(cluster.m1)].join(' '), ...env } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

/** A deploy that must succeed, failing with its output and the fleetd logs otherwise. */
async function deployOk(version: string): Promise<void> {
  const result = await deploy(version);
  if (result.code !== 0) throw new Error(`deploy.sh ${version} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}\n${clusterLogs(cluster)}`);
}

/** Rows of a `--no-legend` listing, split on TABs. */
async function rows(...args: string[]): Promise<string[][]> {
  const { stdout } = await fleetctlOk(cluster.m1, ...args, '--no-legend');
  return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t').filter((c) => c !== ''));
}

/** Each instance's unit hash, as the registry holds it. */
async function hashes(): Promise<Map<string, string>> {
  const all = await rows('list-unit-files', '--full', '--fields', 'unit,hash');
  return new Map(all.filter(([unit]) => instances.includes(unit ?? '')).map(([unit, hash]) => [unit ?? '', hash ?? '']));
}

/** Each instance's ACTIVE column (systemd's ActiveState on its machine). */
async function activeStates(): Promise<Record<string, string>> {
  const all = await rows('list-units', '--fields', 'unit,active');
  return Object.fromEntries(all.filter(([unit]) => instances.includes(unit ?? '')).map(([unit, active]) => [unit ?? '', active ?? '']));
}

const allActive = Object.fromEntries(instances.map((u) => [u, 'active']));

describe('a rolling deploy with examples/deploy.sh', () => {
  let v1: Map<string, string>;
  let v2: Map<string, string>;
  /** An instance running on a machine other than m1, and its instance number. */
  let remote: { unit: string; n: string; machine: LocalMachine };

  it('deploys v1: three instances, all active', { timeout: deployTimeoutMs }, async () => {
    await deployOk('v1');
    expect(await activeStates()).toEqual(allActive);
    v1 = await hashes();
    expect([...v1.keys()].sort()).toEqual(instances);
  });

  it('deploys v2: every instance has a new hash and is active', { timeout: deployTimeoutMs }, async () => {
    await deployOk('v2');
    v2 = await hashes();
    for (const unit of instances) expect(v2.get(unit), unit).not.toBe(v1.get(unit));
    expect(await activeStates()).toEqual(allActive);
    // Where each instance runs, for the next tests.
    const placed = await rows('list-units', '--full', '--fields', 'unit,machine');
    const elsewhere = placed.find(([unit, machine]) => instances.includes(unit ?? '') && !(machine ?? '').startsWith(cluster.m1.machineId));
    if (elsewhere === undefined) throw new Error(`no instance runs on a machine other than m1: ${JSON.stringify(placed)}`);
    const [unit = '', machine = ''] = elsewhere;
    const host = cluster.machines.find((m) => machine.startsWith(m.machineId));
    if (host === undefined) throw new Error(`unknown machine ${machine}`);
    remote = { unit, n: unit.replace(/^app@(\d+)\.service$/, '$1'), machine: host };
  });

  it("journal of an instance on another machine, through m1's API, shows the new version", async () => {
    const expected = `app ${remote.n} version v2`;
    // The instance prints a line every 2 s; the first one may still be on its way to the journal.
    const log = await pollUntil(
      `"${expected}" in the journal of ${remote.unit}`,
      async () => {
        const result = await fleetctlOk(cluster.m1, 'journal', '--lines', '5', remote.unit);
        return result.stdout.includes(expected) ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // The newest 5 lines; older ones may still be v1's (or systemd's own) if the instance just restarted.
    expect(log.split('\n').filter((l) => l !== '').length).toBeLessThanOrEqual(5);
  });

  it("status of that instance shows systemd's view from its machine", async () => {
    const result = await fleetctlOk(cluster.m1, 'status', remote.unit);
    expect(result.stdout).toContain('Active: active (running)');
    expect(result.stdout).not.toContain('systemd status unavailable');
  });

  it('journal -f prints new lines as they are logged, until Ctrl-C (exit 0)', async () => {
    const child = spawn(process.execPath, [...fleetctlArgs(cluster.m1), 'journal', '-f', '--lines', '1', remote.unit], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const appLines = () => stdout.split('\n').filter((l) => l.includes(`app ${remote.n} version v2`)).length;
    try {
      // --lines 1 prints one old line: a second app line was logged while following (every 2 s).
      await pollUntil('two app lines, one logged while following', () => (appLines() >= 2 ? true : undefined), { timeoutMs: 20_000 });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toBe('');
  });

  it('a broken release fails at the first instance and leaves the others on v2', { timeout: deployTimeoutMs }, async () => {
    const result = await deploy('v3', { APP_EXEC: '/bin/false' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/app@1\.service/);
    const after = await hashes();
    expect(after.get('app@1.service')).not.toBe(v2.get('app@1.service'));
    expect(after.get('app@2.service')).toBe(v2.get('app@2.service'));
    expect(after.get('app@3.service')).toBe(v2.get('app@3.service'));
    const states = await activeStates();
    expect({ 'app@2.service': states['app@2.service'], 'app@3.service': states['app@3.service'] }).toEqual({ 'app@2.service': 'active', 'app@3.service': 'active' });
    const unit = (await fleetctl(cluster.m1, 'list-units', '--no-legend', '--fields', 'unit,active')).stdout;
    expect(unit).toMatch(/^app@1\.service\s+failed$/m);
  });
});
