import { runStep, same, settleDeadlineMs, settledResult } from './lockstep.js';
import type { Difference, Side, Step, StepResult } from './lockstep.js';

const pollMs = 250;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs every step on `a`, then every step on `b`, on the SAME cluster, and returns the steps whose
 * exit code or output differed. Unlike {@link runLockstep}, each side finds the cluster as the
 * previous steps of its own run left it, so a scenario that creates units must remove them at its
 * end (the second run then starts from the state the first one started from). A `settle` step is
 * repeated on `a` until its result stays the same for 2 s, and on `b` until it equals `a`'s or a
 * deadline passes.
 */
export async function runInTurn(steps: readonly Step[], a: Side, b: Side): Promise<Difference[]> {
  const first: StepResult[] = [];
  for (const step of steps) first.push(step.settle === undefined || step.settle === false ? await runStep(a, step) : await settledResult(a, step));
  const differences: Difference[] = [];
  for (const [i, step] of steps.entries()) {
    const ra = first[i] as StepResult;
    let rb = await runStep(b, step);
    const deadline = Date.now() + settleDeadlineMs;
    while ((step.settle === true || step.settle === 'stable') && !same(ra, rb, step) && Date.now() < deadline) {
      await sleep(pollMs);
      rb = await runStep(b, step);
    }
    if (!same(ra, rb, step)) differences.push({ step: `fleetctl ${step.args.join(' ')}`, a: ra, b: rb });
  }
  return differences;
}
