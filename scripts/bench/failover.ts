import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../local-cluster/processes.js';
import { sleepBody, type Measurement } from './measurements.js';
import type { BenchSubject } from './subject.js';

// The original fleet can take minutes to start units right after one of its fleetds came back.
const wait = { timeoutMs: 300_000, intervalMs: 20 };

async function leader(subject: BenchSubject): Promise<number> {
  return pollUntil(`${subject.label}: an engine leader`, () => subject.leaderIndex(), { timeoutMs: 60_000, intervalMs: 100 });
}

/** Brings machine `index`'s fleetd (by position in `machines`, not the machine's 1-based index) back and waits until the cluster lists it again. */
async function revive(subject: BenchSubject, index: number): Promise<void> {
  await subject.cluster.restartFleetd(subject.machine(index).index);
  const id = subject.machine(index).machineId;
  const other = index === 0 ? 1 : 0;
  await pollUntil(`${subject.label}: machine ${index} listed again`, async () => ((await subject.fleetctl(other, ['list-machines', '--no-legend', '--full'])).stdout.includes(id) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
}

/** The engine leader's fleetd SIGKILLed, then a new unit started. */
export const leaderKill: Measurement = {
  name: 'leader SIGKILL -> a new unit running',
  unit: 'ms',
  definition: 'SIGKILL the engine leader\'s fleetd, at once `fleetctl start --no-block` a new unit through another machine, until the API reports it active/running; then the fleetd is started again and the unit kept',
  async measure(subject, run, ctx) {
    const index = await leader(subject);
    const via = index === 0 ? 1 : 0;
    const name = `${subject.label}-lk${run}.service`;
    const file = join(ctx.dir, name);
    writeFileSync(file, sleepBody);
    const t0 = performance.now();
    await subject.cluster.killFleetd(subject.machine(index).index, 'SIGKILL');
    await subject.fleetctl(via, ['start', '--no-block', file]);
    await pollUntil(`${subject.label}: ${name} running`, async () => ((await subject.runningPerApi([name], via)).size === 1 ? true : undefined), wait);
    const value = performance.now() - t0;
    await revive(subject, index);
    ctx.keep(subject, [name]);
    return { value, detail: { killed: index } };
  },
};

/** The row of {@link machineKill}'s second figure. */
export const stillRunningRow = 'non-leader SIGKILL: its units still running there';

/** A machine that is not the leader SIGKILLed: its units move, and some may still run where they were. */
export function machineKill(unitsPerRun: number): Measurement {
  return {
    name: 'non-leader SIGKILL -> its units running elsewhere',
    unit: 'ms',
    definition: `with ${unitsPerRun} /bin/sleep units running, SIGKILL the fleetd of the machine that is not the leader and runs the most of them, until the API reports every one of its units active/running on another machine; the next row counts those of its units that its own systemd still runs at that moment; then the fleetd is started again and the units kept`,
    async measure(subject, run, ctx) {
      const names = Array.from({ length: unitsPerRun }, (_, i) => `${subject.label}-mk${run}-${i}.service`);
      const files = names.map((n) => {
        const f = join(ctx.dir, n);
        writeFileSync(f, sleepBody);
        return f;
      });
      await subject.fleetctl(0, ['start', '--no-block', ...files]);
      await pollUntil(`${subject.label}: ${names.length} units running`, async () => ((await subject.runningPerApi(names)).size === names.length ? true : undefined), wait);
      const lead = await leader(subject);
      const states = (await subject.states()).filter((s) => names.includes(s.name));
      const candidates = subject.cluster.machines.map((m, i) => ({ i, m, units: states.filter((s) => s.machineID === m.machineId).map((s) => s.name) })).filter((c) => c.i !== lead);
      const victim = candidates.sort((a, b) => b.units.length - a.units.length)[0];
      if (victim === undefined || victim.units.length === 0) throw new Error(`${subject.label}: no non-leader machine runs any of the units`);
      const via = victim.i === 0 ? (lead === 1 ? 2 : 1) : 0;
      const t0 = performance.now();
      await subject.cluster.killFleetd(victim.m.index, 'SIGKILL');
      await pollUntil(`${subject.label}: the units of machine ${victim.i} running elsewhere`, async () => {
        const now = (await subject.states(via)).filter((s) => victim.units.includes(s.name) && s.systemdActiveState === 'active' && s.machineID !== victim.m.machineId);
        return new Set(now.map((s) => s.name)).size === victim.units.length ? true : undefined;
      }, wait);
      const value = performance.now() - t0;
      const stillThere = (await subject.activeOn(victim.m, `${subject.label}-mk${run}-*`)).length;
      await revive(subject, victim.i);
      ctx.keep(subject, names);
      return { value, detail: { moved: victim.units.length }, also: [{ measurement: stillRunningRow, unit: 'count', value: stillThere }] };
    },
  };
}
