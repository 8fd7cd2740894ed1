import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot, startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../scripts/local-cluster/cluster.js';
import { fleetctlBin } from '../../scripts/local-cluster/paths.js';
import { referenceFleetctl, referenceFleetDir } from '../../scripts/local-cluster/reference-fleet.js';
import { fleetTransientFailure, type Side } from './lockstep.js';

/** Unit files of the compatibility scenarios. */
export const unitsDir = join(repoRoot, 'test/compat/units');

/**
 * The folder of the ORIGINAL fleet binaries. Throws with the reason when FLEET_REFERENCE_DIR does
 * not lead to them: the compatibility suite fails loudly rather than skipping.
 */
export function requireReference(): string {
  const found = referenceFleetDir(process.env);
  if (!found.ok) throw new Error(`the compatibility suite needs the original fleet: ${found.why}`);
  return found.dir;
}

/** How to run each fleetctl: the original binary, and ours with this Node. */
export function fleetctlCommands(): { readonly original: readonly string[]; readonly ours: readonly string[] } {
  return { original: [referenceFleetctl(requireReference())], ours: [process.execPath, fleetctlBin] };
}

/** Machine IDs both clusters use, so that placement ties break the same way and outputs compare as they are. */
const machineIds = ['1c0a9d9e2b3f4a5b8c7d6e5f4a3b2c1d', '2d1b0e9f3c4a5b6c9d8e7f6a5b4c3d2e', '3e2c1f0a4d5b6c7d0e9f8a7b6c5d4e3f'];

/** Our cluster and the original fleet's, side by side. */
export interface CompatClusters {
  readonly ours: LocalCluster;
  readonly reference: LocalCluster;
}

/**
 * Two local 3-machine clusters for the tests of one file, started before them and stopped after:
 * ours, and one whose machines run the ORIGINAL fleetd. Same machine IDs, IPs and metadata
 * (rack=r1, rack=r1, rack=r2), the same agent TTL and reconcile interval.
 */
export function useCompatClusters(opts: Partial<LocalClusterOptions> = {}): CompatClusters {
  const started: { ours?: LocalCluster; reference?: LocalCluster } = {};
  const dirs: string[] = [];
  beforeAll(async () => {
    const referenceDir = requireReference();
    for (const implementation of ['ours', 'reference'] as const) {
      const dir = mkdtempSync(implementation === 'ours' ? '/tmp/fc-o-' : '/tmp/fc-r-');
      dirs.push(dir);
      for (const [i, id] of machineIds.entries()) {
        mkdirSync(join(dir, `m${i + 1}`), { recursive: true });
        writeFileSync(join(dir, `m${i + 1}`, 'machine-id'), `${id}\n`);
      }
      started[implementation] = await startLocalCluster({
        agentTtl: '10s', engineReconcileInterval: 1, name: `compat-${implementation}`, machines: machineIds.length, ...opts, dir, implementation, referenceDir,
      });
    }
  });
  afterAll(async () => {
    await Promise.allSettled([started.ours?.stop(), started.reference?.stop()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const get = (which: 'ours' | 'reference'): LocalCluster => {
    const cluster = started[which];
    if (cluster === undefined) throw new Error(`the ${which} cluster is used outside a test`);
    return cluster;
  };
  return {
    get ours() {
      return get('ours');
    },
    get reference() {
      return get('reference');
    },
  };
}

/**
 * A fleetctl pointed at machine 1 of a cluster, reading unit files from `test/compat/units`; on the
 * original fleet's cluster, fleet's own transient failures are retried.
 */
export function sideOf(name: string, fleetctl: readonly string[], cluster: LocalCluster, implementation: 'ours' | 'reference'): Side {
  const first = cluster.machines[0];
  if (first === undefined) throw new Error(`${name}: the cluster has no machine`);
  const side: Side = { name, fleetctl, endpoint: `unix://${first.apiSocket}`, cwd: unitsDir, machines: cluster.machines };
  return implementation === 'reference' ? { ...side, transient: fleetTransientFailure } : side;
}
