import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runningContainers } from '../local-cluster/docker.js';
import { pollUntil } from '../local-cluster/processes.js';
import type { Sample } from './stats.js';
import type { BenchSubject } from './subject.js';

/** What every measurement gets besides its subject. */
export interface BenchContext {
  /** Where unit files are written. */
  readonly dir: string;
  readonly log: (line: string) => void;
  /** Records units a measurement leaves running (they count towards the etcd load rows). */
  readonly keep: (subject: BenchSubject, names: readonly string[]) => void;
  /** How long the idle rows wait for quiet before their window. */
  readonly quietMs: number;
}

/** One value of one run, and what else it saw. */
export interface Measured {
  readonly value: number;
  readonly detail?: Record<string, unknown>;
  /** Values of other rows seen in the same run (e.g. how many units still ran where they were). */
  readonly also?: readonly { readonly measurement: string; readonly unit: Sample['unit']; readonly value: number }[];
}

/** One row of the table: a definition (printed in the README) and how to take one sample. */
export interface Measurement {
  readonly name: string;
  readonly unit: Sample['unit'];
  readonly definition: string;
  measure(subject: BenchSubject, run: number, ctx: BenchContext): Promise<Measured>;
}

/** The unit most measurements start: a process that runs until it is stopped. */
export const sleepBody = '[Service]\nExecStart=/bin/sleep 100000\n';
/** How often a measurement looks at the API or systemd while it waits. */
const pollMs = 10;
const longWait = { timeoutMs: 300_000, intervalMs: 50 };

function containerBody(name: string): string {
  return `[Service]\nExecStartPre=-/usr/bin/docker rm -f ${name}\nExecStart=/usr/bin/docker run --rm --name ${name} --network none fleet-busybox:latest sleep 100000\nExecStop=/usr/bin/docker stop -t 1 ${name}\nSuccessExitStatus=137 143\n`;
}

function writeUnits(ctx: BenchContext, names: readonly string[], body: (name: string) => string = () => sleepBody): string[] {
  return names.map((name) => {
    const file = join(ctx.dir, name);
    writeFileSync(file, body(name));
    return file;
  });
}

const namesOf = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}.service`);

/** Waits until the API reports every one of `units` active/running. */
async function untilRunning(subject: BenchSubject, units: readonly string[], via = 0, wait: { timeoutMs: number; intervalMs: number } = { timeoutMs: 120_000, intervalMs: pollMs }): Promise<void> {
  await pollUntil(`${subject.label}: ${units.length} units running`, async () => ((await subject.runningPerApi(units, via)).size === units.length ? true : undefined), wait);
}

/**
 * Destroys `units` and waits until the API reports none of them and no machine's systemd runs any,
 * so that the next measurement starts from a quiet cluster. Not timed.
 */
export async function destroyAndSettle(subject: BenchSubject, units: readonly string[], glob: string): Promise<void> {
  if (units.length === 0) return;
  for (let i = 0; i < units.length; i += 100) await subject.fleetctl(0, ['destroy', ...units.slice(i, i + 100)]);
  await untilGone(subject, units, glob, longWait);
}

async function untilGone(subject: BenchSubject, units: readonly string[], glob: string, wait: { timeoutMs: number; intervalMs: number }): Promise<void> {
  const want = new Set(units);
  await pollUntil(`${subject.label}: ${units.length} units gone`, async () => {
    if ((await subject.states()).some((s) => want.has(s.name))) return undefined;
    for (const m of subject.cluster.machines) if ((await subject.activeOn(m, glob)).some((n) => want.has(n))) return undefined;
    return true;
  }, wait);
}

/** One unit: `fleetctl start --no-block` until the API shows it active/running. */
export const startOneCli: Measurement = {
  name: 'one unit: fleetctl start --no-block -> running',
  unit: 'ms',
  definition: 'spawn `fleetctl start --no-block x.service` (a /bin/sleep unit) until `GET /fleet/v1/state` reports it active/running, polled every 10 ms; the unit is kept',
  async measure(subject, run, ctx) {
    const [name] = namesOf(`${subject.label}-cli${run}`, 1) as [string];
    const [file] = writeUnits(ctx, [name]);
    const t0 = performance.now();
    await subject.fleetctl(0, ['start', '--no-block', file!]);
    await untilRunning(subject, [name]);
    const value = performance.now() - t0;
    ctx.keep(subject, [name]);
    return { value };
  },
};

/** One unit through the API alone. */
export const startOneApi: Measurement = {
  name: 'one unit: API PUT -> running',
  unit: 'ms',
  definition: 'one `PUT /fleet/v1/units/x.service` with the options and `desiredState: launched`, until `GET /fleet/v1/state` reports it active/running, polled every 10 ms; the unit is kept',
  async measure(subject, run, ctx) {
    const [name] = namesOf(`${subject.label}-api${run}`, 1) as [string];
    const t0 = performance.now();
    await subject.putUnit(0, name, sleepBody);
    await untilRunning(subject, [name]);
    const value = performance.now() - t0;
    ctx.keep(subject, [name]);
    return { value };
  },
};

/** One unit, blocking start. */
export const startOneBlocking: Measurement = {
  name: 'one unit: fleetctl start (blocking)',
  unit: 'ms',
  definition: 'wall time of `fleetctl start x.service`, which returns once the unit is launched (fleetctl polls every 500 ms, as fleet\'s does); the unit is kept',
  async measure(subject, run, ctx) {
    const [name] = namesOf(`${subject.label}-blk${run}`, 1) as [string];
    const [file] = writeUnits(ctx, [name]);
    const t0 = performance.now();
    await subject.fleetctl(0, ['start', file!]);
    const value = performance.now() - t0;
    await untilRunning(subject, [name]);
    ctx.keep(subject, [name]);
    return { value };
  },
};

/** Many units in one invocation. */
export function startMany(count: number): Measurement {
  return {
    name: `${count} units: fleetctl start --no-block -> all running`,
    unit: 'ms',
    definition: `spawn one \`fleetctl start --no-block\` of ${count} /bin/sleep unit files until \`GET /fleet/v1/state\` reports all active/running; the units are kept (they count towards the etcd load rows)`,
    async measure(subject, run, ctx) {
      const names = namesOf(`${subject.label}-many${run}`, count);
      const files = writeUnits(ctx, names);
      const t0 = performance.now();
      await subject.fleetctl(0, ['start', '--no-block', ...files], 300_000);
      await untilRunning(subject, names, 0, { timeoutMs: 300_000, intervalMs: 50 });
      const value = performance.now() - t0;
      ctx.keep(subject, names);
      return { value };
    },
  };
}

/** Destroy of running units, until nothing of them is left. */
export function destroyMany(count: number): Measurement {
  return {
    name: `${count} running units: fleetctl destroy -> gone`,
    unit: 'ms',
    definition: `with ${count} /bin/sleep units running, spawn one \`fleetctl destroy\` of all of them until \`GET /fleet/v1/state\` reports none of them and no machine's systemd has any of them active, activating or deactivating`,
    async measure(subject, run, ctx) {
      const names = namesOf(`${subject.label}-d${run}`, count);
      await subject.fleetctl(0, ['start', '--no-block', ...writeUnits(ctx, names)]);
      await untilRunning(subject, names, 0, longWait);
      const t0 = performance.now();
      await subject.fleetctl(0, ['destroy', ...names]);
      await untilGone(subject, names, `${subject.label}-d${run}-*`, longWait);
      return { value: performance.now() - t0 };
    },
  };
}

/** Docker containers. */
export function dockerMany(count: number): Measurement {
  return {
    name: `${count} container units: fleetctl start --no-block -> all up`,
    unit: 'ms',
    definition: `spawn one \`fleetctl start --no-block\` of ${count} units that each \`docker run\` a busybox container, until \`docker ps\` lists all of the containers`,
    async measure(subject, run, ctx) {
      const names = namesOf(`${subject.label}-ctr${run}`, count);
      const containers = names.map((n) => n.replace(/\.service$/, ''));
      const files = writeUnits(ctx, names, (n) => containerBody(n.replace(/\.service$/, '')));
      const t0 = performance.now();
      await subject.fleetctl(0, ['start', '--no-block', ...files]);
      await pollUntil(`${subject.label}: ${count} containers up`, async () => {
        const up = new Set(await runningContainers());
        return containers.every((c) => up.has(c)) ? true : undefined;
      }, { timeoutMs: 300_000, intervalMs: 50 });
      const value = performance.now() - t0;
      await destroyAndSettle(subject, names, `${subject.label}-ctr${run}-*`);
      return { value };
    },
  };
}

/** etcd's request rate with nothing to do, per machine. */
export function idleEtcdLoad(label: string, windowMs: number): Measurement {
  return {
    name: `etcd requests/s per machine, idle, ${label}`,
    unit: 'req/s',
    definition: `etcd's own request counters (v2 \`etcd_http_received_total\` + v3 \`grpc_server_started_total\` from its \`/metrics\`) over ${windowMs / 1000} s with nothing changing, after a quiet spell (5 s), divided by the seconds and the machines`,
    async measure(subject, _run, ctx) {
      await new Promise((r) => setTimeout(r, ctx.quietMs)); // quiet first: the measured window must hold no earlier work
      const before = await subject.etcdRequests();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, windowMs)); // the window is what is measured
      const after = await subject.etcdRequests();
      const seconds = (performance.now() - t0) / 1000;
      return { value: (after - before) / seconds / subject.cluster.machines.length, detail: { requests: after - before, seconds } };
    },
  };
}
