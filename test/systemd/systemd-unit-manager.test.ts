import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemdError } from '@fleet/core';
import { parseUnitFile, parseUnitName, type UnitName } from '@fleet/core/model';
import { startSystemdUser, stopSystemdUser, type SystemdUserInstance } from '../../scripts/local-cluster/systemd-user.js';
import { SystemdUnitManager } from '@fleet/agent';
import { Systemd1 } from '@fleet/agent/systemd';
import { unitManagerContract } from '@fleet/agent/testing';

// A real `systemd --user` in its own cgroup. If it cannot start, every test fails with the reason
// (kept from beforeAll and rethrown per test, so none is reported as merely skipped).
let root: string;
let instance: SystemdUserInstance | undefined;
let startError: unknown;

function startInstance(label: string): Promise<SystemdUserInstance> {
  return startSystemdUser({
    runtimeDir: join(root, `${label}-runtime`),
    cgroup: `fleet-test-${process.pid}-${randomBytes(4).toString('hex')}`,
    logFile: join(root, `${label}-systemd.log`),
  });
}

function running(): SystemdUserInstance {
  if (instance === undefined) throw new Error(`systemd --user did not start: ${String(startError)}`, { cause: startError });
  return instance;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleet-systemd-test-'));
  try {
    instance = await startInstance('main');
  } catch (err) {
    startError = err;
  }
}, 30_000);

afterAll(async () => {
  if (instance !== undefined) await stopSystemdUser(instance);
  await rm(root, { recursive: true, force: true });
}, 60_000);

/** True when `path` is a symbolic link (dangling or not). */
async function isLink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Where `systemctl --user enable --runtime` puts a `WantedBy=default.target` link on the instance. */
function defaultTargetWant(unit: UnitName): string {
  return join(running().runtimeDir, 'systemd', 'user', 'default.target.wants', unit);
}

unitManagerContract('SystemdUnitManager on systemd --user', async () => {
  const unitsDirectory = join(root, 'units');
  return {
    manager: await SystemdUnitManager.connect({ busAddress: running().busAddress, unitsDirectory }),
    unitsDirectory,
    isEnabled: (unit) => isLink(defaultTargetWant(unit)),
  };
});

describe('SystemdUnitManager', () => {
  it('links the unit file into the runtime unit directory of the instance', async () => {
    const unitsDirectory = join(root, 'units');
    const manager = await SystemdUnitManager.connect({ busAddress: running().busAddress, unitsDirectory });
    const unit = parseUnitName(`link-${process.pid}.service`);
    try {
      await manager.load(unit, parseUnitFile('[Service]\nExecStart=/bin/true\n'));
      const link = join(running().runtimeDir, 'systemd', 'user', unit);
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(link)).toBe(join(unitsDirectory, unit));
      await manager.unload(unit);
      await expect(lstat(link)).rejects.toThrow(/ENOENT/);
    } finally {
      await manager.close();
    }
  });

  it('enables a unit with [Install] at runtime (UnitFileState enabled-runtime), links one without (linked-runtime)', async () => {
    const unitsDirectory = join(root, 'units');
    const manager = await SystemdUnitManager.connect({ busAddress: running().busAddress, unitsDirectory });
    const probe = await Systemd1.connect({ busAddress: running().busAddress });
    const [enabled, linked] = [parseUnitName(`enabled-${process.pid}.service`), parseUnitName(`linked-${process.pid}.service`)];
    try {
      await manager.load(enabled, parseUnitFile('[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n'));
      await manager.load(linked, parseUnitFile('[Service]\nExecStart=/bin/true\n'));
      expect(await probe.getUnitFileState(enabled)).toBe('enabled-runtime');
      expect(await probe.getUnitFileState(linked)).toBe('linked-runtime');
      expect(await readlink(defaultTargetWant(enabled))).toBe(join(unitsDirectory, enabled));
      await manager.unload(enabled);
      await manager.unload(linked);
      for (const unit of [enabled, linked]) {
        await expect(probe.getUnitFileState(unit)).rejects.toThrow(/FileNotFound/);
        expect(await isLink(join(running().runtimeDir, 'systemd', 'user', unit))).toBe(false);
      }
      expect(await isLink(defaultTargetWant(enabled))).toBe(false);
    } finally {
      probe.close();
      await manager.close();
    }
  });

  it('removes the file again when systemd refuses the link, so the next pass retries the load', async () => {
    const unitsDirectory = join(root, 'units');
    const manager = await SystemdUnitManager.connect({ busAddress: running().busAddress, unitsDirectory });
    try {
      const notAUnit = 'no-unit-suffix' as UnitName; // a plain file name, but not a unit name systemd accepts
      const error = await manager.load(notAUnit, parseUnitFile('[Service]\nExecStart=/bin/true\n')).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(SystemdError);
      expect((error as SystemdError).transient).toBe(false);
      await expect(lstat(join(unitsDirectory, notAUnit))).rejects.toThrow(/ENOENT/);
    } finally {
      await manager.close();
    }
  });

  it('fails to connect to a bus that does not exist with a transient SystemdError', async () => {
    running(); // meaningless without systemd on this machine
    const error = await SystemdUnitManager.connect({ busAddress: `unix:path=${join(root, 'no-such-bus')}`, unitsDirectory: join(root, 'units') }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SystemdError);
    expect((error as SystemdError).transient).toBe(true);
  });

  // dbus-next alone would leave this call pending forever once the socket has ended.
  it('fails fast with a transient SystemdError once systemd is gone', async () => {
    running();
    const doomed = await startInstance('doomed');
    const manager = await SystemdUnitManager.connect({ busAddress: doomed.busAddress, unitsDirectory: join(root, 'doomed-units') });
    try {
      manager.subscribe(() => undefined);
      await manager.unitStates([parseUnitName('x.service')]); // connected and subscribed
      await stopSystemdUser(doomed);
      const error = await manager.unitStates([parseUnitName('x.service')]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(SystemdError);
      expect((error as SystemdError).transient).toBe(true);
    } finally {
      await manager.close();
      await stopSystemdUser(doomed);
    }
  }, 20_000);
});
