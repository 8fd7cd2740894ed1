import type { WireUnitState } from '@fleet/core/wire';
import { hashUnitFile } from '@fleet/core/model';
import type { TestFleetApi } from './test-fleet-api.js';
import { machineA, machineB, optionsOf } from './harness.js';

/** The third machine of the golden cluster. */
export const machineC = '7f3a9b2c5d6e4f1a8b9c0d1e2f3a4b5c';

const files = {
  'hello.service': '[Unit]\nDescription=Hello World\n\n[Service]\nExecStart=/bin/sh -c "while true; do echo Hello; sleep 1; done"\n',
  'web@.service': '[Unit]\nDescription=Web server %i\n\n[Service]\nExecStart=/usr/bin/httpd -p 80%i\n\n[X-Fleet]\nConflicts=web@*.service\n',
  'web@1.service': '[Unit]\nDescription=Web server %i\n\n[Service]\nExecStart=/usr/bin/httpd -p 80%i\n\n[X-Fleet]\nConflicts=web@*.service\n',
  'db.service': '[Unit]\nDescription=Database\n\n[Service]\nExecStart=/usr/bin/db --data /var/lib/db\n\n[X-Fleet]\nMachineMetadata=disk=ssd\n',
  'monitor.service': '[Unit]\nDescription=Node monitor\n\n[Service]\nExecStart=/usr/bin/monitor\n\n[X-Fleet]\nGlobal=true\n',
  'broken.service': '[Service]\nExecStart=/bin/false\n',
  'idle.service': '[Unit]\nDescription=Submitted, never loaded\n\n[Service]\nExecStart=/bin/true\n',
  'pending.service': '[Unit]\nDescription=Waits for a rack\n\n[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=rack=r3\n',
} as const;

type UnitName = keyof typeof files;

/** The reason the API gives for `pending.service`. */
export const pendingReason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';

/**
 * Puts one fixed cluster state into `api` (and turns auto-convergence off), for golden output:
 * three machines (metadata: several keys, none, one), and units in every state fleetctl shows:
 * launched and active, activating, loaded but stopped, failed, global on every machine, inactive
 * (never scheduled), unschedulable with a reason, and a template. systemd's status: hello.service's
 * as a real machine renders it, the others made up from their states; the third
 * machine's fleetd cannot be reached (its units' systemd status is unavailable).
 */
export function loadGoldenCluster(api: TestFleetApi): void {
  api.autoConverge = false;
  api.machines = [
    { id: machineA, primaryIP: '10.10.1.1', metadata: { region: 'us-west', rack: 'r1' } },
    { id: machineB, primaryIP: '10.10.1.2', metadata: {} },
    { id: machineC, primaryIP: '10.10.1.3', metadata: { disk: 'ssd' } },
  ];
  const add = (name: UnitName, desiredState: string, currentState: string, machineID?: string, reason?: string): void => {
    api.addUnit(name, optionsOf(files[name]), {
      desiredState,
      currentState,
      ...(machineID === undefined ? {} : { machineID }),
      ...(reason === undefined ? {} : { reason }),
    });
  };
  add('hello.service', 'launched', 'launched', machineA);
  add('web@.service', 'inactive', 'inactive');
  add('web@1.service', 'launched', 'launched', machineB);
  add('db.service', 'loaded', 'loaded', machineC);
  add('monitor.service', 'launched', ''); // global: no current state, as in fleet's API
  add('broken.service', 'launched', 'launched', machineA);
  add('idle.service', 'inactive', 'inactive');
  add('pending.service', 'launched', 'inactive', undefined, pendingReason);
  const state = (name: UnitName, machineID: string, active: string, sub: string): WireUnitState => ({
    name,
    hash: hashUnitFile(optionsOf(files[name])),
    machineID,
    systemdLoadState: 'loaded',
    systemdActiveState: active,
    systemdSubState: sub,
  });
  // Not sorted: the API sorts (by unit, then machine), and so does fleetctl.
  api.setStates([
    state('web@1.service', machineB, 'activating', 'start'),
    state('hello.service', machineA, 'active', 'running'),
    state('monitor.service', machineC, 'active', 'running'),
    state('monitor.service', machineA, 'active', 'running'),
    state('monitor.service', machineB, 'active', 'running'),
    state('db.service', machineC, 'inactive', 'dead'),
    state('broken.service', machineA, 'failed', 'failed'),
  ]);
  api.systemdStatus.set(`${machineA}/hello.service`, {
    text: [
      '● hello.service - Hello World',
      '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)',
      '     Active: active (running) since Sun 2026-11-22 02:37:09 UTC; 2s ago',
      '   Main PID: 12053',
      '     CGroup: /fleet-abc-m1/app.slice/hello.service',
    ].join('\n'),
    unit: {
      name: 'hello.service',
      description: 'Hello World',
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      service: { mainPid: 12053, result: 'success' },
    },
  });
  api.unreachable.add(machineC);
}
