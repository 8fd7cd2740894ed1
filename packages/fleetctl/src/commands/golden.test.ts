import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadGoldenCluster } from '../testing/golden-cluster.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

/**
 * fleetctl's output for one fixed cluster (testing/golden-cluster.ts), compared byte for byte
 * with testing/golden/<name>.txt, so that every change of a format is deliberate and shows in the
 * diff of those files. After such a change: UPDATE_GOLDEN=1 npx vitest run packages/fleetctl, then
 * review the files.
 */
const goldenDir = fileURLToPath(new URL('../testing/golden/', import.meta.url));
const update = process.env['UPDATE_GOLDEN'] === '1';

const allUnits = ['hello', 'web@1', 'db.service', 'monitor', 'broken', 'idle', 'pending', 'web@.service'];
// The text of `status` ends, as fleet's does, at a unit that is not loaded: these are all loaded.
const loadedUnits = allUnits.filter((u) => !['idle', 'pending', 'web@.service'].includes(u));

const cases: readonly (readonly [name: string, args: readonly string[]])[] = [
  ['list-units', ['list-units']],
  ['list-units--full', ['list-units', '--full']],
  ['list-units--no-legend', ['list-units', '--no-legend']],
  ['list-units--fields', ['list-units', '--fields', 'unit,load,active,sub,machine,hash']],
  ['list-units--json', ['list-units', '-o', 'json']],
  ['list-unit-files', ['list-unit-files']],
  ['list-unit-files--full', ['list-unit-files', '--full']],
  ['list-unit-files--no-legend', ['list-unit-files', '--no-legend']],
  ['list-unit-files--fields', ['list-unit-files', '--fields', 'unit,global,dstate,state,target,desc,reason']],
  ['list-unit-files--json', ['list-unit-files', '-o', 'json']],
  ['list-machines', ['list-machines']],
  ['list-machines--full', ['list-machines', '--full']],
  ['list-machines--no-legend', ['list-machines', '--no-legend']],
  ['list-machines--fields', ['list-machines', '--fields', 'ip,machine']],
  ['list-machines--json', ['list-machines', '-o', 'json']],
  ['status', ['status', ...loadedUnits]],
  ['status--full', ['status', '--full', ...loadedUnits]],
  ['status--json', ['status', '-o', 'json', ...allUnits]],
  ['help', ['--help']],
];

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  loadGoldenCluster(h.api);
});
afterEach(async () => {
  await h.close();
});

describe('golden output', () => {
  it.each(cases)('%s', async (name, args) => {
    const r = await h.fleetctl(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const path = `${goldenDir}${name}.txt`;
    if (update) writeFileSync(path, r.stdout);
    expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(r.stdout).toBe(readFileSync(path, 'utf8'));
  });

  it('has a case for every golden file', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(goldenDir).filter((f) => f.endsWith('.txt')).sort();
    expect(files).toEqual(cases.map(([name]) => `${name}.txt`).sort());
  });
});
