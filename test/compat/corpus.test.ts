import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusCases, differences, knownDifferences, runCorpusCase } from '../../scripts/compat/corpus.js';
import { startLocalCluster, type LocalCluster } from '../../scripts/local-cluster/cluster.js';
import { referenceFleetctl, referenceFleetDir } from '../../scripts/local-cluster/reference-fleet.js';

// Every corpus case, submitted with fleet's own fleetctl to fleet's fleetd and to ours, must give
// the same exit code, refusal, `fleetctl cat` and hash; the known differences must still differ.
// Both clusters are started here, one machine each (see test/compat/corpus/README.md).

const reference = referenceFleetDir(process.env);
const cases = corpusCases();
const started: { cluster: LocalCluster; dir: string }[] = [];
let endpoints: { ours: string; fleet: string } | undefined;

beforeAll(async () => {
  if (!reference.ok) throw new Error(`the corpus needs fleet's own binaries: ${reference.why}`);
  const start = async (startIn: (dir: string) => Promise<LocalCluster>): Promise<string> => {
    const dir = mkdtempSync('/tmp/fl-corpus-');
    const cluster = await startIn(dir);
    started.push({ cluster, dir });
    const machine = cluster.machines[0];
    if (machine === undefined) throw new Error('the cluster has no machine');
    return `unix://${machine.apiSocket}`;
  };
  const referenceDir = reference.dir;
  const fleet = await start((dir) => startLocalCluster({ implementation: 'reference', referenceDir, machines: 1, dir }));
  const ours = await start((dir) => startLocalCluster({ machines: 1, dir, name: 'corpus' }));
  endpoints = { ours, fleet };
});

afterAll(async () => {
  for (const { cluster, dir } of started.reverse()) {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('unit files as fleet takes them', () => {
  it('has a corpus of 60 cases or more, every known difference among them', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(Object.keys(knownDifferences).filter((name) => !cases.some((c) => c.name === name))).toEqual([]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    if (endpoints === undefined || !reference.ok) throw new Error('the clusters did not start');
    const fleetctl = referenceFleetctl(reference.dir);
    const [ours, fleets] = await Promise.all([runCorpusCase(fleetctl, endpoints.ours, c), runCorpusCase(fleetctl, endpoints.fleet, c)]);
    if (knownDifferences[name] === undefined) expect(ours).toEqual(fleets);
    else expect(differences(ours, fleets)).not.toEqual([]);
  });
});
