import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../local-cluster/processes.js';
import { sleepBody, type BenchContext } from './measurements.js';
import type { BenchSubject } from './subject.js';

/**
 * Starts /bin/sleep units until `target` of them are launched on `subject` (it has `have`), and
 * waits until all run; not timed. Returns the names of the units it started.
 */
export async function keepLaunched(subject: BenchSubject, ctx: BenchContext, have: number, target: number): Promise<string[]> {
  const names = Array.from({ length: Math.max(0, target - have) }, (_, i) => `${subject.label}-pop-${String(have + i).padStart(5, '0')}.service`);
  for (let i = 0; i < names.length; i += 200) {
    const batch = names.slice(i, i + 200).map((n) => {
      const file = join(ctx.dir, n);
      writeFileSync(file, sleepBody);
      return file;
    });
    await subject.fleetctl(0, ['start', '--no-block', ...batch], 600_000);
  }
  await pollUntil(`${subject.label}: ${names.length} more units running`, async () => ((await subject.runningPerApi(names)).size === names.length ? true : undefined), { timeoutMs: 900_000, intervalMs: 500 });
  return names;
}
