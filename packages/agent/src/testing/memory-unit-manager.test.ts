import { describe, expect, it } from 'vitest';
import { SystemdError } from '@fleet/core';
import { parseUnitFile, parseUnitName } from '@fleet/core/model';
import { unitManagerContract } from './unit-manager-contract.js';
import { InMemoryUnitManager } from './memory-unit-manager.js';

unitManagerContract('InMemoryUnitManager', async () => {
  const manager = new InMemoryUnitManager();
  return { manager, isEnabled: async (unit) => manager.isEnabled(unit) };
});

const hello = parseUnitName('hello.service');
const file = parseUnitFile('[Service]\nExecStart=/bin/true\n');

describe('InMemoryUnitManager', () => {
  it('records mutating calls in order, failed ones included', async () => {
    const fake = new InMemoryUnitManager();
    await fake.load(hello, file);
    await fake.reloadUnitFiles();
    await fake.start(hello);
    await fake.unitStates([hello]);
    await fake.stop(hello);
    await fake.unload(hello);
    fake.failNext('reloadUnitFiles');
    await fake.reloadUnitFiles().catch(() => undefined);
    expect(fake.calls).toEqual(['load hello.service', 'reload', 'start hello.service', 'stop hello.service', 'unload hello.service', 'reload']);
  });

  it('records an enable after the load of a file with an [Install] section', async () => {
    const fake = new InMemoryUnitManager();
    const installable = parseUnitFile('[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n');
    await fake.load(hello, installable);
    await fake.load(parseUnitName('plain.service'), file);
    await fake.reloadUnitFiles();
    await fake.unload(hello);
    expect(fake.calls).toEqual(['load hello.service', 'enable hello.service', 'load plain.service', 'reload', 'unload hello.service']);
    expect(fake.isEnabled(hello)).toBe(false);
  });

  it.each([
    ['WantedBy=default.target', true],
    ['RequiredBy=default.target', true],
    ['Alias=hi.service', true],
    ['WantedBy=', false],
    ['WantedBy=default.target\nWantedBy=', false],
    ['WantedBy=\nWantedBy=default.target', true],
    ['UpheldBy=default.target', false],
    ['Also=other.service', false],
    ['DefaultInstance=x', false],
  ])('enables [Install] %j as systemd 252 does: %s', async (install, enabled) => {
    const fake = new InMemoryUnitManager();
    const loaded = fake.load(hello, parseUnitFile(`[Service]\nExecStart=/bin/true\n[Install]\n${install}\n`));
    if (enabled) await loaded;
    else await expect(loaded).rejects.toMatchObject({ name: 'SystemdError', transient: false });
    expect(fake.isEnabled(hello)).toBe(enabled);
    expect((await fake.loadedUnits()).has(hello)).toBe(enabled);
  });

  it('fails only the next call of the chosen method, with a transient SystemdError by default', async () => {
    const fake = new InMemoryUnitManager();
    fake.failNext('load');
    const error = await fake.load(hello, file).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(SystemdError);
    expect((error as SystemdError).transient).toBe(true);
    expect((await fake.loadedUnits()).size).toBe(0);
    await fake.load(hello, file);
    expect(fake.fileOf(hello)).toBe('[Service]\nExecStart=/bin/true\n');
  });

  it('throws the injected error', async () => {
    const fake = new InMemoryUnitManager();
    const injected = new SystemdError('StartUnit hello.service', false);
    fake.failNext('unitStates', injected);
    await expect(fake.unitStates([hello])).rejects.toBe(injected);
  });

  it('keeps a running unit running, as not-found, after unload and reload', async () => {
    const fake = new InMemoryUnitManager();
    await fake.load(hello, file);
    await fake.reloadUnitFiles();
    await fake.start(hello);
    await fake.unload(hello);
    await fake.reloadUnitFiles();
    expect((await fake.unitStates([hello])).get(hello)).toEqual({ loadState: 'not-found', activeState: 'active', subState: 'running' });
  });

  it('wakes subscribers when a unit changes by itself', async () => {
    const fake = new InMemoryUnitManager();
    const woken = new Promise<void>((resolve) => fake.subscribe(resolve));
    fake.setState(hello, { activeState: 'failed', subState: 'failed' });
    await woken;
    expect((await fake.unitStates([hello])).get(hello)).toEqual({ loadState: 'not-found', activeState: 'failed', subState: 'failed' });
  });

  it('stops waking a subscriber after unsubscribe', async () => {
    const fake = new InMemoryUnitManager();
    let wakeUps = 0;
    const unsubscribe = fake.subscribe(() => wakeUps++);
    await fake.reloadUnitFiles();
    await Promise.resolve();
    unsubscribe();
    await fake.reloadUnitFiles();
    await Promise.resolve();
    expect(wakeUps).toBe(1);
  });
});
