import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SystemdError } from '@fleet/core';
import { hashUnitFile, parseUnitFile, parseUnitName, type UnitFile, type UnitName } from '@fleet/core/model';
import type { SystemdUnitState, UnitManager } from '../unit-manager.js';
import { withDeadline } from '@fleet/core/testing';

/** What a contract run needs: a fresh manager, and where it writes files when it writes any. */
export interface UnitManagerUnderTest {
  readonly manager: UnitManager;
  /** The manager's units directory; `undefined` for a manager without one (the in-memory fake). */
  readonly unitsDirectory?: string | undefined;
  /**
   * Whether `unit` is enabled now. The contract's files ask for `WantedBy=default.target`, so for a
   * real systemd this is a link in the runtime `default.target.wants/` directory; a fake answers from
   * its own record.
   */
  readonly isEnabled: (unit: UnitName) => Promise<boolean>;
}

const sleeper: UnitFile = parseUnitFile('[Unit]\nDescription=contract test\n\n[Service]\nExecStart=/bin/sleep 1000\n');
const otherSleeper: UnitFile = parseUnitFile('[Service]\nExecStart=/bin/sleep 2000\n');
const installable: UnitFile = parseUnitFile('[Unit]\nDescription=contract test\n\n[Service]\nExecStart=/bin/sleep 1000\n\n[Install]\nWantedBy=default.target\n');
/** An `[Install]` section whose only rule is reset by an empty assignment: systemd has nothing to enable. */
const noInstallRule: UnitFile = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n\n[Install]\nWantedBy=default.target\nWantedBy=\n');
const deadlineMs = 10_000;

/**
 * The behaviour every `UnitManager` must show, run against the in-memory fake and a real
 * `systemd --user` alike. `makeManager` is called before each test; the manager is closed after it.
 */
export function unitManagerContract(name: string, makeManager: () => Promise<UnitManagerUnderTest>): void {
  describe(`UnitManager contract: ${name}`, () => {
    let subject: UnitManagerUnderTest | undefined;
    let manager: UnitManager;
    const used: UnitName[] = [];
    let counter = 0;
    // Unique per test: a real systemd instance is shared by the whole file.
    const unitName = (): UnitName => {
      const unit = parseUnitName(`contract-${process.pid}-${++counter}.service`);
      used.push(unit);
      return unit;
    };

    beforeEach(async () => {
      subject = undefined;
      subject = await makeManager();
      manager = subject.manager;
    });

    afterEach(async () => {
      if (subject === undefined) return; // makeManager failed: that failure is the test's result
      // Leave nothing running or linked for the next test.
      for (const unit of used.splice(0)) {
        await manager.stop(unit).catch(() => undefined);
        await manager.unload(unit).catch(() => undefined);
      }
      await manager.reloadUnitFiles().catch(() => undefined);
      await manager.close();
    });

    it('shows a loaded unit as loaded/inactive/dead after reloadUnitFiles', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      await manager.reloadUnitFiles();
      expect((await manager.unitStates([unit])).get(unit)).toEqual({ loadState: 'loaded', activeState: 'inactive', subState: 'dead' });
    });

    it('shows a new unit as loaded/inactive/dead and starts it without a reload (systemd ≥ 246 loads a new file on first use)', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      expect((await manager.unitStates([unit])).get(unit)).toEqual({ loadState: 'loaded', activeState: 'inactive', subState: 'dead' });
      await manager.start(unit);
      await waitForState(manager, unit, { activeState: 'active', subState: 'running' });
    });

    it('reports each loaded file with the hash of its options, before any reload', async () => {
      const [a, b] = [unitName(), unitName()];
      await manager.load(a, sleeper);
      await manager.load(b, otherSleeper);
      const loaded = await manager.loadedUnits();
      expect(loaded.get(a)).toBe(hashUnitFile(sleeper));
      expect(loaded.get(b)).toBe(hashUnitFile(otherSleeper));
    });

    it('starts a loaded unit: active/running', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      await manager.reloadUnitFiles();
      await manager.start(unit);
      await waitForState(manager, unit, { activeState: 'active', subState: 'running' });
    });

    it('wakes subscribers after a start', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      await manager.reloadUnitFiles();
      let resolveWoken: () => void = () => undefined;
      const woken = new Promise<void>((resolve) => (resolveWoken = resolve));
      const unsubscribe = manager.subscribe(() => resolveWoken());
      try {
        await manager.start(unit);
        await withDeadline(woken, 'a wake-up after start', deadlineMs);
      } finally {
        unsubscribe();
      }
    });

    it('stops a started unit: inactive/dead', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      await manager.reloadUnitFiles();
      await manager.start(unit);
      await waitForState(manager, unit, { activeState: 'active' });
      await manager.stop(unit);
      await waitForState(manager, unit, { activeState: 'inactive', subState: 'dead' });
    });

    it('forgets a unit after unload and reload: not-found, file gone', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      await manager.reloadUnitFiles();
      await manager.unload(unit);
      await manager.reloadUnitFiles();
      expect((await manager.unitStates([unit])).get(unit)).toEqual({ loadState: 'not-found', activeState: 'inactive', subState: 'dead' });
      expect((await manager.loadedUnits()).has(unit)).toBe(false);
      if (subject?.unitsDirectory !== undefined) expect(existsSync(join(subject.unitsDirectory, unit))).toBe(false);
    });

    it('load is idempotent, and a second load with new options replaces the file', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      await manager.load(unit, sleeper);
      expect((await manager.loadedUnits()).get(unit)).toBe(hashUnitFile(sleeper));
      await manager.load(unit, otherSleeper);
      expect((await manager.loadedUnits()).get(unit)).toBe(hashUnitFile(otherSleeper));
      await manager.reloadUnitFiles();
      expect((await manager.unitStates([unit])).get(unit)?.loadState).toBe('loaded');
    });

    it('unload is idempotent, also for a unit never loaded', async () => {
      const [loaded, never] = [unitName(), unitName()];
      await manager.load(loaded, sleeper);
      await manager.unload(loaded);
      await manager.unload(loaded);
      await manager.unload(never);
      expect((await manager.loadedUnits()).has(loaded)).toBe(false);
    });

    it('reports unknown units as not-found/inactive/dead, and nothing for no names', async () => {
      const unit = unitName();
      expect(await manager.unitStates([unit])).toEqual(new Map([[unit, { loadState: 'not-found', activeState: 'inactive', subState: 'dead' }]]));
      expect((await manager.unitStates([])).size).toBe(0);
    });

    it('stopping a unit systemd does not know succeeds', async () => {
      await manager.stop(unitName());
    });

    it('starting a unit systemd does not know fails with a terminal SystemdError', async () => {
      const error = await manager.start(unitName()).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(SystemdError);
      expect((error as SystemdError).transient).toBe(false);
    });

    it('enables a unit with an [Install] section at load, and disables it at unload', async () => {
      const unit = unitName();
      const under = subject as UnitManagerUnderTest;
      await manager.load(unit, installable);
      expect(await under.isEnabled(unit)).toBe(true);
      expect((await manager.loadedUnits()).get(unit)).toBe(hashUnitFile(installable));
      await manager.reloadUnitFiles();
      // Enabling pulls the unit into default.target's wants; it does not start it.
      expect((await manager.unitStates([unit])).get(unit)).toEqual({ loadState: 'loaded', activeState: 'inactive', subState: 'dead' });
      await manager.unload(unit);
      expect(await under.isEnabled(unit)).toBe(false);
      await manager.reloadUnitFiles();
      expect((await manager.unitStates([unit])).get(unit)?.loadState).toBe('not-found');
    });

    it('only links a unit without an [Install] section', async () => {
      const unit = unitName();
      await manager.load(unit, sleeper);
      expect(await (subject as UnitManagerUnderTest).isEnabled(unit)).toBe(false);
    });

    it('load is idempotent for an enabled unit, and a new file without [Install] disables it', async () => {
      const unit = unitName();
      const under = subject as UnitManagerUnderTest;
      await manager.load(unit, installable);
      await manager.load(unit, installable);
      expect(await under.isEnabled(unit)).toBe(true);
      await manager.load(unit, sleeper);
      expect(await under.isEnabled(unit)).toBe(false);
      expect((await manager.loadedUnits()).get(unit)).toBe(hashUnitFile(sleeper));
      await manager.reloadUnitFiles();
      expect((await manager.unitStates([unit])).get(unit)?.loadState).toBe('loaded');
    });

    it('fails to load a unit whose [Install] section has no rule to apply, with a terminal SystemdError, leaving nothing', async () => {
      const unit = unitName();
      const error = await manager.load(unit, noInstallRule).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(SystemdError);
      expect((error as SystemdError).transient).toBe(false);
      expect((await manager.loadedUnits()).has(unit)).toBe(false);
      expect(await (subject as UnitManagerUnderTest).isEnabled(unit)).toBe(false);
      if (subject?.unitsDirectory !== undefined) expect(existsSync(join(subject.unitsDirectory, unit))).toBe(false);
    });

    it.each(['../x.service', '../../x.service', 'sub/x.service', '..', ''])('refuses to write the unit name %j', async (bad) => {
      await expect(manager.load(bad as UnitName, sleeper)).rejects.toThrow();
      if (subject?.unitsDirectory !== undefined) {
        expect(existsSync(join(dirname(subject.unitsDirectory), 'x.service'))).toBe(false);
        expect(existsSync(join(dirname(dirname(subject.unitsDirectory)), 'x.service'))).toBe(false);
      }
      expect([...(await manager.loadedUnits()).keys()]).not.toContain(bad);
    });
  });
}

/**
 * Waits until `unit` shows `expected`, re-reading on every wake-up and, as a safety net for wake-ups
 * that came before we listened, every 100 ms. Fails with the last state seen at the deadline.
 */
async function waitForState(manager: UnitManager, unit: UnitName, expected: Partial<SystemdUnitState>): Promise<void> {
  let wake: () => void = () => undefined;
  const unsubscribe = manager.subscribe(() => wake());
  const deadline = Date.now() + deadlineMs;
  let last: SystemdUnitState | undefined;
  try {
    for (;;) {
      last = (await manager.unitStates([unit])).get(unit);
      if (last !== undefined && Object.entries(expected).every(([k, v]) => last?.[k as keyof SystemdUnitState] === v)) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${unit} did not reach ${JSON.stringify(expected)} within ${deadlineMs} ms; last ${JSON.stringify(last)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    unsubscribe();
  }
}
