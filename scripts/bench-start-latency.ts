/**
 * Benchmark: latency from `fleetctl start --no-block UNIT` to the unit being reported
 * `active running` by the API, on a local 3-machine cluster (real etcd, systemd, Docker).
 *
 *   npm run build && node scripts/dist/bench-start-latency.js [--runs 10]
 *
 * Prints each run and the median, for a plain `/bin/sleep` unit and for a busybox container unit.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startLocalCluster, type LocalMachine } from './local-cluster/cluster.js';
import { httpRequest } from './local-cluster/http.js';
import { fleetctlArgs } from './local-cluster/paths.js';
import { pollUntil } from './local-cluster/processes.js';

const exec = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);

async function activeRunning(machine: LocalMachine, unit: string): Promise<true | undefined> {
  const res = await httpRequest({ socketPath: machine.apiSocket, path: `/fleet/v1/state?unitName=${unit}` });
  const body = JSON.parse(res.body) as { states: { systemdActiveState: string; systemdSubState: string }[] };
  return body.states.some((s) => s.systemdActiveState === 'active' && s.systemdSubState === 'running') ? true : undefined;
}

async function measure(machine: LocalMachine, dir: string, unit: string, body: string): Promise<number> {
  const file = join(dir, unit);
  writeFileSync(file, body);
  const t0 = performance.now();
  await exec(process.execPath, [...fleetctlArgs(machine), 'start', '--no-block', file]);
  await pollUntil(`${unit} to become active`, () => activeRunning(machine, unit), { timeoutMs: 60_000, intervalMs: 10 });
  const ms = performance.now() - t0;
  await exec(process.execPath, [...fleetctlArgs(machine), 'destroy', unit]);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const dir = mkdtempSync('/tmp/fl-bench-');
const cluster = await startLocalCluster({ dir, machines: 3, name: 'bench' });
try {
  const m1 = cluster.machines[0]!;
  const kinds = {
    'sleep unit': (i: number) => [`bench-sleep-${i}.service`, '[Service]\nExecStart=/bin/sleep 100000\n'] as const,
    'container unit': (i: number) => [
      `bench-ctr-${i}.service`,
      `[Service]\nExecStartPre=-/usr/bin/docker rm -f bench-ctr-${i}\nExecStart=/usr/bin/docker run --rm --name bench-ctr-${i} --network none fleet-busybox:latest sleep 100000\nExecStop=/usr/bin/docker stop -t 1 bench-ctr-${i}\nSuccessExitStatus=137 143\n`,
    ] as const,
  };
  for (const [kind, make] of Object.entries(kinds)) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [unit, body] = make(i);
      samples.push(await measure(m1, dir, unit, body));
    }
    console.log(`${kind}: fleetctl start --no-block -> active running (API), ${runs} runs`);
    console.log(`  runs (ms): ${samples.map((s) => s.toFixed(0)).join(' ')}`);
    console.log(`  median ${median(samples).toFixed(0)} ms, min ${Math.min(...samples).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms`);
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
