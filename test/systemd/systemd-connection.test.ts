import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemdError } from '@fleet/core';
import { parseUnitName } from '@fleet/core/model';
import { busConnectionsOf, startSystemdUser, stopSystemdUser, type SystemdUserInstance } from '../../scripts/local-cluster/systemd-user.js';
import { SystemdConnection, SystemdUnitInspector, SystemdUnitManager } from '@fleet/agent';

// A real `systemd --user` in its own cgroup; if it cannot start, every test fails with the reason.
let root: string;
let instance: SystemdUserInstance | undefined;
let startError: unknown;

function running(): SystemdUserInstance {
  if (instance === undefined) throw new Error(`systemd --user did not start: ${String(startError)}`, { cause: startError });
  return instance;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleet-connection-test-'));
  try {
    instance = await startSystemdUser({ runtimeDir: join(root, 'runtime'), cgroup: `fleet-test-${process.pid}-${randomBytes(4).toString('hex')}`, logFile: join(root, 'systemd.log') });
  } catch (err) {
    startError = err;
  }
}, 30_000);

afterAll(async () => {
  if (instance !== undefined) await stopSystemdUser(instance);
  await rm(root, { recursive: true, force: true });
}, 60_000);

const connectionsOf = (pid: number): Promise<string[]> => busConnectionsOf(running().busAddress, pid);

describe('SystemdConnection', () => {
  const unit = parseUnitName(`probe-${process.pid}.service`);

  it('serves the unit manager and the unit inspector over one D-Bus connection, which their close() leaves open', async () => {
    const before = await connectionsOf(process.pid);
    const connection = await SystemdConnection.open({ busAddress: running().busAddress });
    const manager = new SystemdUnitManager(connection, { unitsDirectory: join(root, 'units') });
    const inspector = new SystemdUnitInspector(connection);
    try {
      manager.subscribe(() => undefined);
      await manager.unitStates([unit]);
      expect((await inspector.status(unit)).loadState).toBe('not-found');
      const added = (await connectionsOf(process.pid)).filter((name) => !before.includes(name));
      expect(added).toHaveLength(1);

      await manager.close();
      expect((await inspector.status(unit)).loadState).toBe('not-found');
      await inspector.close();
      expect(connection.current?.isOpen).toBe(true);
    } finally {
      await connection.close();
    }
    expect(connection.current).toBeUndefined();
    const error = await connection.bus().then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(SystemdError);
    expect((error as SystemdError).transient).toBe(false);
  });

  it('opens one new connection for all its users after the old one ended', async () => {
    const connection = await SystemdConnection.open({ busAddress: running().busAddress });
    const manager = new SystemdUnitManager(connection, { unitsDirectory: join(root, 'units') });
    const inspector = new SystemdUnitInspector(connection);
    manager.subscribe(() => undefined);
    try {
      const first = await connection.bus();
      await manager.unitStates([unit]); // connected and subscribed
      const before = await connectionsOf(process.pid);
      first.close();
      expect(connection.current).toBeUndefined();
      // Both at once: one new connection between them.
      const [states, status] = await Promise.all([manager.unitStates([unit]), inspector.status(unit)]);
      expect(states.get(unit)?.loadState).toBe('not-found');
      expect(status.loadState).toBe('not-found');
      const second = await connection.bus();
      expect(second).not.toBe(first);
      const after = await connectionsOf(process.pid);
      expect(after.filter((name) => !before.includes(name))).toHaveLength(1);
      expect(after.length).toBe(before.length); // the old one is gone
    } finally {
      await manager.close();
      await inspector.close();
      await connection.close();
    }
  });
});
