import { runStep, same } from './lockstep.js';
import type { Difference, Side, Step, StepResult } from './lockstep.js';

const settleDeadlineMs = 40_000;
const pollMs = 250;
/** How long a settling listing must stay unchanged on the first side before it counts as settled. */
const stableForMs = 2_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a `settle` step on one side until its result stays the same for {@link stableForMs}. */
async function settledResult(side: Side, step: Step): Promise<StepResult> {
  let last = await runStep(side, step);
  let since = Date.now();
  const deadline = since + settleDeadlineMs;
  while (Date.now() - since < stableForMs && Date.now() < deadline) {
    await sleep(pollMs);
    const next = await runStep(side, step);
    if (!same(next, last)) [last, since] = [next, Date.now()];
  }
  return last;
}

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
  for (const step of steps) first.push(step.settle === true ? await settledResult(a, step) : await runStep(a, step));
  const differences: Difference[] = [];
  for (const [i, step] of steps.entries()) {
    const ra = first[i] as StepResult;
    let rb = await runStep(b, step);
    const deadline = Date.now() + settleDeadlineMs;
    while (step.settle === true && !same(ra, rb, step) && Date.now() < deadline) {
      await sleep(pollMs);
      rb = await runStep(b, step);
    }
    if (!same(ra, rb, step)) differences.push({ step: `fleetctl ${step.args.join(' ')}`, a: ra, b: rb });
  }
  return differences;
}
