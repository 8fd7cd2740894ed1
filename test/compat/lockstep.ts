import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** One fleetctl invocation of a scenario. */
export interface Step {
  readonly args: readonly string[];
  /**
   * The output reflects state that settles on its own after the command (systemd states in a
   * listing): run it again on both sides, up to a deadline, until the two agree. `stable`: first
   * until each side's output stays the same for {@link stableForMs} (after a `--no-block` command
   * both sides may agree on a state still in transition).
   */
  readonly settle?: boolean | 'stable';
  /** Lines come in no fixed order (fleetctl waits for several units at once): compare them sorted. */
  readonly unordered?: boolean;
  /** Extra environment, e.g. `FLEETCTL_ENDPOINT` instead of `--endpoint`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Pass the endpoint through `FLEETCTL_ENDPOINT` rather than `--endpoint`. */
  readonly endpointFromEnv?: boolean;
  /** Run in this folder below the side's `cwd` (another version of a unit file). */
  readonly dir?: string;
  /**
   * Compare only stderr: the exit code and stdout differ on purpose (a command line fleet refuses
   * with exit code 0 and its usage on stdout; ours exits 1 and prints nothing there).
   */
  readonly compare?: 'stderr';
}

/** A fleetctl binary pointed at one cluster. */
export interface Side {
  /** For messages, e.g. `original fleetctl → our cluster`. */
  readonly name: string;
  /** The command that runs fleetctl: `[binary, ...leading args]`. */
  readonly fleetctl: readonly string[];
  readonly endpoint: string;
  /** Where unit files named in the steps are read from. */
  readonly cwd: string;
  /** The cluster's machines, renamed in outputs (see {@link normalise}). */
  readonly machines: readonly { readonly machineId: string; readonly publicIp: string }[];
  /**
   * Failures of this side that are its own flakiness, not behaviour to compare (set for the
   * original fleet only): when side `a` fails so, the other side must succeed, and its output
   * is not compared for that step (a second run would not print the same: the state moved on).
   */
  readonly transient?: RegExp;
}

/**
 * fleet's client gives up when fleet's agent reports systemd's state more than 2 s after the unit
 * reached `launched`, which its slow agents sometimes do: a failed `start` against the original
 * fleetd that a second run does not repeat. Our side is never retried.
 */
export const fleetTransientFailure = /within 2s/;

export interface StepResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A step whose outcome differed between the two sides. */
export interface Difference {
  readonly step: string;
  readonly a: StepResult;
  readonly b: StepResult;
}

export const settleDeadlineMs = 40_000;
const settlePollMs = 250;

/** Runs one step on one side; the exit code, stdout and stderr, normalised (see {@link normalise}). */
export async function runStep(side: Side, step: Step): Promise<StepResult> {
  const [bin, ...lead] = side.fleetctl;
  if (bin === undefined) throw new Error(`${side.name}: no fleetctl command`);
  const endpointArgs = step.endpointFromEnv === true ? [] : ['--endpoint', side.endpoint];
  const env = { ...process.env, ...(step.endpointFromEnv === true ? { FLEETCTL_ENDPOINT: side.endpoint } : {}), ...step.env };
  if (step.endpointFromEnv !== true) delete env['FLEETCTL_ENDPOINT'];
  const raw = await new Promise<StepResult>((resolve) => {
    execFile(bin, [...lead, ...endpointArgs, ...step.args], { cwd: step.dir === undefined ? side.cwd : join(side.cwd, step.dir), env, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr });
    });
  });
  const clean = (text: string): string => normalise(text, side.machines, step.unordered === true);
  return { code: raw.code, stdout: clean(raw.stdout), stderr: clean(raw.stderr) };
}

/**
 * Makes two clusters' outputs comparable. glog's timestamps are dropped. Machines are renamed
 * `M1`, `M2`, ... in the order they first appear in the text (by full ID, fleetctl's `abcd1234...`
 * or IP): fleet places units that arrive together in no fixed order (its engine walks a Go map),
 * so which machine a unit lands on may differ, while which units share a machine still compares.
 * With `unordered` the lines are sorted and the ` on <machine>` of `Unit x launched on ...`
 * dropped (fleet's client looks machines up from several goroutines and prints it only for some).
 */
export function normalise(text: string, machines: Side['machines'], unordered: boolean): string {
  let out = text.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /gm, '');
  const tokens = machines.flatMap((m, i) => [m.machineId, `${m.machineId.slice(0, 8)}...`, m.publicIp].map((token) => ({ token, machine: i })));
  const pattern = new RegExp(tokens.map((t) => escapeRegExp(t.token)).sort((a, b) => b.length - a.length).join('|'), 'g');
  const labels = new Map<number, string>();
  if (tokens.length > 0) {
    out = out.replace(pattern, (token) => {
      const machine = tokens.find((t) => t.token === token)?.machine ?? -1;
      if (!labels.has(machine)) labels.set(machine, `M${labels.size + 1}`);
      const label = labels.get(machine) as string;
      return token.endsWith('...') ? `${label}...` : token.includes('.') ? `${label}-ip` : `${label}-id`;
    });
  }
  if (!unordered) return out;
  const lines = out.split('\n');
  const last = lines.pop();
  const sorted = lines.map((l) => l.replace(/^(Unit \S+ \S+) on \S+$/, '$1')).sort();
  return [...sorted, ...(last === undefined || last === '' ? [] : [last])].join('\n') + (last === '' ? '\n' : '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How long a `settle: 'stable'` listing must stay unchanged on a side before it counts as settled. */
export const stableForMs = 2_000;

/** Runs a step on one side until its result stays the same for {@link stableForMs} (bounded by the settle deadline). */
export async function settledResult(side: Side, step: Step): Promise<StepResult> {
  let last = await runStep(side, step);
  let since = Date.now();
  const deadline = since + settleDeadlineMs;
  while (Date.now() - since < stableForMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, settlePollMs));
    const next = await runStep(side, step);
    if (!same(next, last, step)) [last, since] = [next, Date.now()];
  }
  return last;
}

/** Whether two results of `step` agree (only their stderr for a `compare: 'stderr'` step). */
export function same(a: StepResult, b: StepResult, step: Pick<Step, 'compare'> = {}): boolean {
  if (step.compare === 'stderr') return a.stderr === b.stderr;
  return a.code === b.code && a.stdout === b.stdout && a.stderr === b.stderr;
}

/**
 * Runs the steps on both sides in lockstep (each step on `a` and `b` at once: they must be two
 * clusters) and returns the steps
 * whose exit code or output differed. A `settle` step is repeated on both sides until they agree
 * or a deadline passes.
 */
export async function runLockstep(steps: readonly Step[], a: Side, b: Side, options: LockstepOptions = {}): Promise<Difference[]> {
  const { onTransient, record } = options;
  const differences: Difference[] = [];
  for (const step of steps) {
    // The sides are different clusters: each step runs on both at once.
    let [ra, rb] = await Promise.all(step.settle === 'stable' ? [settledResult(a, step), settledResult(b, step)] : [runStep(a, step), runStep(b, step)]);
    if (ra.code !== 0 && a.transient?.test(ra.stderr) === true) {
      onTransient?.(`fleetctl ${step.args.join(' ')}`, ra);
      record?.push({ a: ra, b: rb });
      if (rb.code !== 0) differences.push({ step: `fleetctl ${step.args.join(' ')}`, a: ra, b: rb });
      continue;
    }
    const deadline = Date.now() + settleDeadlineMs;
    while ((step.settle === true || step.settle === 'stable') && !same(ra, rb, step) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, settlePollMs));
      [ra, rb] = await Promise.all([runStep(a, step), runStep(b, step)]);
    }
    record?.push({ a: ra, b: rb });
    if (!same(ra, rb, step)) differences.push({ step: `fleetctl ${step.args.join(' ')}`, a: ra, b: rb });
  }
  return differences;
}

/** Options of {@link runLockstep}. */
export interface LockstepOptions {
  /** Told of each step side `a` failed with one of its transient failures (see {@link Side.transient}). */
  readonly onTransient?: (step: string, result: StepResult) => void;
  /** Receives each step's final results, in order (a step `a` failed transiently included). */
  readonly record?: { a: StepResult; b: StepResult }[];
}

/**
 * Compares two recorded runs of the same steps (from the same starting state), step by step:
 * the differences, as {@link runLockstep} reports them. `skip` leaves steps out.
 */
export function compareRecorded(steps: readonly Step[], a: readonly StepResult[], b: readonly StepResult[], skip: (step: Step) => boolean = () => false): Difference[] {
  if (a.length !== steps.length || b.length !== steps.length) throw new Error(`recorded ${a.length} and ${b.length} results for ${steps.length} steps`);
  return steps.flatMap((step, i) => {
    const ra = a[i] as StepResult;
    const rb = b[i] as StepResult;
    return skip(step) || same(ra, rb, step) ? [] : [{ step: `fleetctl ${step.args.join(' ')}`, a: ra, b: rb }];
  });
}

/** A readable report of differences, for a failing assertion. */
export function describeDifferences(differences: readonly Difference[], a: Side, b: Side): string {
  return differences
    .map((d) => [
      `$ ${d.step}`,
      `  ${a.name}: exit ${d.a.code}\n${indent(d.a.stdout, 'out')}${indent(d.a.stderr, 'err')}`,
      `  ${b.name}: exit ${d.b.code}\n${indent(d.b.stdout, 'out')}${indent(d.b.stderr, 'err')}`,
    ].join('\n'))
    .join('\n\n');
}

function indent(text: string, label: string): string {
  return text === '' ? '' : `${text.trimEnd().split('\n').map((l) => `    ${label}| ${l}`).join('\n')}\n`;
}
