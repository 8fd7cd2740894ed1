/**
 * Benchmark: `fleetctl start --no-block` of N unit files in ONE invocation, on a local 3-machine
 * cluster (real etcd, one systemd per machine, Docker), for each N given.
 *
 *   npm run bench:start-many [-- --counts 1,100,300 --timeout 120 --keep]
 *   (run it under the shared lock: flock /tmp/realstack.lock npm run bench:start-many)
 *
 * The units are plain services, `ExecStart=/bin/sleep 100000` (Type=simple, no container: 300
 * containers cannot come up in seconds on 2 cores, and the figure is about fleet, not dockerd).
 * "Running" means what fleetctl's own wait means: the API's `GET /fleet/v1/state` reports the unit
 * `active`/`running` on its machine, i.e. systemd has forked its process.
 *
 * Per N it prints two figures, both from the moment fleetctl is spawned (Node's start-up included):
 * - `returned`: fleetctl exited (it must exit 0);
 * - `all running`: the API reports all N units active/running (polled every 100 ms by
 *   this process, concurrently with fleetctl).
 * Then it destroys the N units (one `fleetctl destroy`) and waits until their states are gone.
 *
 * And, as the floor any fleet has to stand on, `systemctl alone`: the same N units, a third on each
 * machine, linked into each machine's systemd beforehand (not timed), then started with one
 * `systemctl --user start --no-block` per machine, the three side by side, until `systemctl
 * list-units --state=running` counts all of them on each machine. No fleetd is involved (the
 * fleetds keep running, idle).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startLocalCluster, type LocalMachine } from './local-cluster/cluster.js';
import { httpRequest } from './local-cluster/http.js';
import { fleetctlArgs } from './local-cluster/paths.js';
import { userInstanceEnvironment } from './local-cluster/systemd-user.js';

const exec = promisify(execFile);
const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '1,100,300' },
    timeout: { type: 'string', default: '120' },
    // Keep the cluster folder (fleetd logs) for a look at where the time went.
    keep: { type: 'boolean', default: false },
  },
});
const counts = values.counts.split(',').map((c) => Number(c.trim()));
if (counts.some((c) => !Number.isInteger(c) || c <= 0)) throw new Error(`--counts must be positive integers, got ${values.counts}`);
const timeoutMs = Number(values.timeout) * 1000;
const pollMs = 100;

interface StatePage {
  states?: { name: string; systemdActiveState: string; systemdSubState: string }[];
  nextPageToken?: string;
}

/** Every state the API reports, all pages. */
async function allStates(machine: LocalMachine): Promise<NonNullable<StatePage['states']>> {
  const out: NonNullable<StatePage['states']> = [];
  let token: string | undefined;
  do {
    const path = `/fleet/v1/state${token === undefined ? '' : `?nextPageToken=${token}`}`;
    const res = await httpRequest({ socketPath: machine.apiSocket, path }, { timeoutMs: 10_000 });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body}`);
    const page = JSON.parse(res.body) as StatePage;
    out.push(...(page.states ?? []));
    token = page.nextPageToken === '' ? undefined : page.nextPageToken;
  } while (token !== undefined);
  return out;
}

async function countRunning(machine: LocalMachine, names: ReadonlySet<string>): Promise<number> {
  const states = await allStates(machine);
  return states.filter((s) => names.has(s.name) && s.systemdActiveState === 'active' && s.systemdSubState === 'running').length;
}

async function countReported(machine: LocalMachine, names: ReadonlySet<string>): Promise<number> {
  return (await allStates(machine)).filter((s) => names.has(s.name)).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true; resolves the ms since `t0` when it was first seen true. */
async function pollSince(t0: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const deadline = t0 + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - t0;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

async function measure(machine: LocalMachine, dir: string, n: number): Promise<{ returnedMs: number; runningMs: number }> {
  const unitDir = join(dir, `n${n}`);
  mkdirSync(unitDir, { recursive: true });
  const files: string[] = [];
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const name = `bench-many-${n}-${i}.service`;
    const file = join(unitDir, name);
    writeFileSync(file, '[Service]\nExecStart=/bin/sleep 100000\n');
    files.push(file);
    names.add(name);
  }
  const t0 = performance.now();
  const running = pollSince(t0, `${n} units active/running`, async () => (await countRunning(machine, names)) === n);
  const started = exec(process.execPath, [...fleetctlArgs(machine), 'start', '--no-block', ...files], { maxBuffer: 64 * 1024 * 1024 }).then(
    () => performance.now() - t0,
  );
  const [returnedMs, runningMs] = await Promise.all([started, running]);
  await exec(process.execPath, [...fleetctlArgs(machine), 'destroy', ...names], { maxBuffer: 64 * 1024 * 1024 });
  await pollSince(performance.now(), `the states of ${n} destroyed units to go`, async () => (await countReported(machine, names)) === 0);
  return { returnedMs, runningMs };
}

/** ms until `systemctl` alone has N units running, spread over `machines` (see the header). */
async function systemctlAlone(machines: readonly LocalMachine[], dir: string, n: number): Promise<number> {
  const perMachine = machines.map((m, k) => {
    const unitDir = join(dir, `systemctl-${n}-${m.name}`);
    mkdirSync(unitDir, { recursive: true });
    const names: string[] = [];
    for (let i = k; i < n; i += machines.length) {
      const name = `bench-floor-${n}-${i}.service`;
      writeFileSync(join(unitDir, name), '[Service]\nExecStart=/bin/sleep 100000\n');
      names.push(name);
    }
    const env = { ...process.env, ...userInstanceEnvironment(m) };
    const systemctl = (...args: string[]) => exec('systemctl', ['--user', ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return { names, unitDir, systemctl };
  });
  await Promise.all(perMachine.map(({ names, unitDir, systemctl }) => (names.length === 0 ? undefined : systemctl('link', '--runtime', ...names.map((u) => join(unitDir, u))))));
  const t0 = performance.now();
  await Promise.all(perMachine.map(async ({ names, systemctl }) => {
    if (names.length === 0) return;
    await systemctl('start', '--no-block', ...names);
    await pollSince(t0, `${names.length} units running under systemctl`, async () => {
      const { stdout } = await systemctl('list-units', '--no-legend', '--plain', '--state=running', `bench-floor-${n}-*`);
      return stdout.split('\n').filter((l) => l.trim() !== '').length === names.length;
    });
  }));
  const ms = performance.now() - t0;
  await Promise.all(perMachine.map(async ({ names, systemctl }) => {
    if (names.length === 0) return;
    await systemctl('stop', ...names);
    await systemctl('disable', '--runtime', ...names);
  }));
  return ms;
}

const dir = mkdtempSync('/tmp/fl-bench-many-');
const cluster = await startLocalCluster({ dir, machines: 3, name: 'bench' });
try {
  const m1 = cluster.machines[0]!;
  console.log('fleetctl start --no-block of N unit files (ExecStart=/bin/sleep), one invocation, 3 machines');
  console.log('N\treturned (s)\tall active/running (s)\tsystemctl alone: all running (s)');
  for (const n of counts) {
    const { returnedMs, runningMs } = await measure(m1, dir, n);
    const floorMs = await systemctlAlone(cluster.machines, dir, n);
    console.log(`${n}\t${(returnedMs / 1000).toFixed(2)}\t${(runningMs / 1000).toFixed(2)}\t${(floorMs / 1000).toFixed(2)}`);
  }
} finally {
  await cluster.stop();
  if (values.keep) console.log(`cluster folder kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
