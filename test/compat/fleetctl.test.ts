import { describe, expect, it } from 'vitest';
import { runInTurn } from './in-turn.js';
import { compareRecorded, describeDifferences, runLockstep, type Difference, type StepResult } from './lockstep.js';
import { errorScenario, lifecycleScenario } from './scenarios.js';
import { fleetctlCommands, sideOf, useCompatClusters } from './support.js';

const clusters = useCompatClusters();

/** fleet's own transient failures are not compared; say so, so a run that hit many shows it. */
function reportFleetFlake(step: string, result: StepResult): void {
  process.stdout.write(`the original fleet failed on its own (not compared): $ ${step}: ${result.stderr.trim()}\n`);
}

/**
 * One lockstep run of the lifecycle scenario with one fleetctl on fleet's cluster and on ours,
 * run once (by the first test that needs it): its differences, and what that fleetctl printed on
 * our cluster at each step.
 */
function lifecycleRun(client: 'original' | 'ours'): () => Promise<{ differences: Difference[]; onOurs: StepResult[] }> {
  let run: Promise<{ differences: Difference[]; onOurs: StepResult[] }> | undefined;
  return () => {
    run ??= (async () => {
      const fleetctl = fleetctlCommands()[client];
      const record: { a: StepResult; b: StepResult }[] = [];
      const differences = await runLockstep(lifecycleScenario, sideA(client, fleetctl), sideB(client, fleetctl), { onTransient: reportFleetFlake, record });
      return { differences, onOurs: record.map((r) => r.b) };
    })();
    return run;
  };
}
const label = (client: string): string => (client === 'ours' ? 'our' : 'original');
const sideA = (client: string, fleetctl: readonly string[]) => sideOf(`${label(client)} fleetctl → original fleetd`, fleetctl, clusters.reference, 'reference');
const sideB = (client: string, fleetctl: readonly string[]) => sideOf(`${label(client)} fleetctl → our fleetd`, fleetctl, clusters.ours, 'ours');
const originalRun = lifecycleRun('original');
const oursRun = lifecycleRun('ours');

describe('wire compatibility with fleet, both directions', () => {
  it("the ORIGINAL fleetctl: same exit codes and output against our cluster as against fleet's", async () => {
    const { original } = fleetctlCommands();
    const { differences } = await originalRun();
    expect(differences, describeDifferences(differences, sideA('original', original), sideB('original', original))).toEqual([]);
  }, 600_000);

  it("our fleetctl: same exit codes and output against fleet's cluster as against ours", async () => {
    const { ours } = fleetctlCommands();
    const { differences } = await oursRun();
    expect(differences, describeDifferences(differences, sideA('ours', ours), sideB('ours', ours))).toEqual([]);
  }, 600_000);
});

describe('our fleetctl in place of the original', () => {
  it('our fleetctl printed what the original fleetctl printed, step by step of the lifecycle, on our cluster', async () => {
    // Both runs above started from the same empty cluster and destroyed what they created, so
    // their outputs on our cluster compare step by step. `version`: each prints its own.
    const { original, ours } = fleetctlCommands();
    const differences = compareRecorded(lifecycleScenario, (await originalRun()).onOurs, (await oursRun()).onOurs, (step) => step.args[0] === 'version');
    expect(differences, describeDifferences(differences, sideB('original', original), sideB('ours', ours))).toEqual([]);
  }, 1_200_000);

  // The two clients run the error scenario one after the other on the same cluster: it leaves
  // nothing behind, so the second run starts where the first did.
  it('our fleetctl prints what the original fleetctl prints for errors, against our cluster', async () => {
    const { original, ours } = fleetctlCommands();
    const differences = await runInTurn(errorScenario, sideB('original', original), sideB('ours', ours));
    expect(differences, describeDifferences(differences, sideB('original', original), sideB('ours', ours))).toEqual([]);
  }, 600_000);
});
