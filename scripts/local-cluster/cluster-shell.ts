import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { implementationOf, type ClusterState, type MachineRecord } from './cluster-state.js';
import { fleetctlBin } from './paths.js';
import { referenceFleetctl } from './reference-fleet.js';
import { userInstanceEnvironment } from './systemd-user.js';

/** The variables that point a shell at machine `m`: fleetctl at its fleetd, `systemctl --user` at its systemd. */
export function machineEnvironment(m: MachineRecord): Record<'FLEETCTL_ENDPOINT' | 'DBUS_SESSION_BUS_ADDRESS' | 'XDG_RUNTIME_DIR', string> {
  return { FLEETCTL_ENDPOINT: `unix://${m.apiSocket}`, ...userInstanceEnvironment(m) };
}

/**
 * `export NAME='value';` lines for {@link machineEnvironment}; each ends with `;`, so both
 * `eval "$(...)"` and an unquoted `eval $(...)`, which joins the lines, run them all.
 */
export function exportLines(m: MachineRecord): string[] {
  return Object.entries(machineEnvironment(m)).map(([name, value]) => `export ${name}=${shellQuote(value)};`);
}

/** The fleetctl that matches the cluster's fleetd: ours (run by node) or the original binary. */
export function fleetctlCommand(state: ClusterState): string[] {
  const referenceDir = state.options.referenceDir;
  if (implementationOf(state) === 'reference' && referenceDir !== undefined) return [referenceFleetctl(referenceDir)];
  return [process.execPath, fleetctlBin];
}

/** Writes `<dir>/fleetctl`: a shell script that runs the cluster's fleetctl against machine 1. */
export function writeFleetctlWrapper(state: ClusterState): void {
  const first = state.machines[0];
  if (first === undefined) return;
  const wrapper = join(state.dir, 'fleetctl');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `# fleetctl against the local cluster in ${state.dir} (written by local-cluster-cli up).`,
      `FLEETCTL_ENDPOINT=${shellQuote(`unix://${first.apiSocket}`)}`,
      'export FLEETCTL_ENDPOINT',
      `exec ${fleetctlCommand(state).map(shellQuote).join(' ')} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
}

/** `text` as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
