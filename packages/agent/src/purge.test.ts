import { describe, expect, it } from 'vitest';
import { silentLogger, systemClock } from '@fleet/core';
import { parseUnitFile, parseUnitName, type UnitName } from '@fleet/core/model';
import { purgeUnits } from './purge.js';
import { InMemoryUnitManager } from './testing/memory-unit-manager.js';

const file = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const [a, b, c] = ['a.service', 'b.service', 'c.service'].map(parseUnitName) as [UnitName, UnitName, UnitName];

async function machineWith(running: UnitName[], loadedOnly: UnitName[]) {
  const units = new InMemoryUnitManager();
  for (const u of [...running, ...loadedOnly]) await units.load(u, file);
  await units.reloadUnitFiles();
  for (const u of running) await units.start(u);
  units.calls.length = 0;
  return units;
}

describe('purgeUnits', () => {
  it('stops the running units, then unloads every unit and reloads systemd once', async () => {
    const units = await machineWith([a, c], [b]);
    expect(await purgeUnits(units, systemClock, silentLogger, 1_000)).toEqual({ unloaded: [a, b, c], stillRunning: [] });
    expect(units.calls).toEqual(['stop a.service', 'stop c.service', 'unload a.service', 'unload b.service', 'unload c.service', 'reload']);
    expect((await units.loadedUnits()).size).toBe(0);
  });

  it('does nothing on a machine without units', async () => {
    const units = await machineWith([], []);
    expect(await purgeUnits(units, systemClock, silentLogger, 1_000)).toEqual({ unloaded: [], stillRunning: [] });
    expect(units.calls).toEqual([]);
  });

  it('waits for a unit that is still stopping, and unloads it once it has stopped', async () => {
    const units = await machineWith([a], []);
    // systemd takes a while: the stop job leaves the unit deactivating until it reports inactive.
    const stop = units.stop.bind(units);
    units.stop = async (name) => {
      await stop(name);
      units.setState(name, { activeState: 'deactivating', subState: 'stop-sigterm' });
      setTimeout(() => units.setState(name, { activeState: 'inactive', subState: 'dead' }), 50);
    };
    const outcome = await purgeUnits(units, systemClock, silentLogger, 5_000);
    expect(outcome).toEqual({ unloaded: [a], stillRunning: [] });
  });

  it('unloads a unit that does not stop in time all the same, and says so', async () => {
    const units = await machineWith([a], []);
    units.stop = async () => undefined; // the stop never takes effect
    expect(await purgeUnits(units, systemClock, silentLogger, 300)).toEqual({ unloaded: [a], stillRunning: [a] });
  });

  it('goes on with the other units when one fails to stop', async () => {
    const units = await machineWith([a, b], []);
    units.failNext('stop');
    const outcome = await purgeUnits(units, systemClock, silentLogger, 300);
    expect(outcome.unloaded).toEqual([a, b]);
    expect(units.calls).toEqual(['stop a.service', 'stop b.service', 'unload a.service', 'unload b.service', 'reload']);
  });
});
