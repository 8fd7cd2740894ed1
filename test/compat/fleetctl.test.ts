import { describe, expect, it } from 'vitest';
import { runInTurn } from './in-turn.js';
import { describeDifferences, runLockstep, type StepResult } from './lockstep.js';
import { errorScenario, lifecycleScenario } from './scenarios.js';
import { fleetctlCommands, sideOf, useCompatClusters } from './support.js';

const clusters = useCompatClusters();

/** fleet's own transient failures are not compared; say so, so a run that hit many shows it. */
function reportFleetFlake(step: string, result: StepResult): void {
  process.stdout.write(`the original fleet failed on its own (not compared): $ ${step}: ${result.stderr.trim()}\n`);
}

describe('wire compatibility with fleet, both directions', () => {
  it("the ORIGINAL fleetctl: same exit codes and output against our cluster as against fleet's", async () => {
    const { original } = fleetctlCommands();
    const fleet = sideOf('original fleetctl → original fleetd', original, clusters.reference, 'reference');
    const ours = sideOf('original fleetctl → our fleetd', original, clusters.ours, 'ours');
    const differences = await runLockstep(lifecycleScenario, fleet, ours, reportFleetFlake);
    expect(differences, describeDifferences(differences, fleet, ours)).toEqual([]);
  }, 600_000);

  it("our fleetctl: same exit codes and output against fleet's cluster as against ours", async () => {
    const { ours: oursFleetctl } = fleetctlCommands();
    const fleet = sideOf('our fleetctl → original fleetd', oursFleetctl, clusters.reference, 'reference');
    const ours = sideOf('our fleetctl → our fleetd', oursFleetctl, clusters.ours, 'ours');
    const differences = await runLockstep(lifecycleScenario, fleet, ours, reportFleetFlake);
    expect(differences, describeDifferences(differences, fleet, ours)).toEqual([]);
  }, 600_000);
});

describe('our fleetctl in place of the original', () => {
  // The two clients run the whole scenario one after the other on the same cluster (each step
  // twice in a row would find the other's units): both scenarios destroy what they create, so
  // the second run starts where the first did. `version` is left out: each prints its own.
  it('our fleetctl prints what the original fleetctl prints, against our cluster', async () => {
    const { original, ours: oursFleetctl } = fleetctlCommands();
    const fleet = sideOf('original fleetctl → our fleetd', original, clusters.ours, 'ours');
    const ours = sideOf('our fleetctl → our fleetd', oursFleetctl, clusters.ours, 'ours');
    const steps = [...lifecycleScenario.filter((step) => step.args[0] !== 'version'), ...errorScenario];
    const differences = await runInTurn(steps, fleet, ours);
    expect(differences, describeDifferences(differences, fleet, ours)).toEqual([]);
  }, 900_000);
});
