import { expect, it } from 'vitest';
import { runBench } from './bench-run.js';

it('npm run bench --smoke: every measurement once on our cluster, with its table and raw samples', async () => {
  const env = { ...process.env };
  delete env['FLEET_REFERENCE_DIR'];
  const { stdout, samples } = await runBench(['--smoke'], env);
  const rows = ['one unit: fleetctl start --no-block -> running', 'one unit: API PUT -> running', 'one unit: fleetctl start (blocking)', '3 running units: fleetctl destroy -> gone', '2 container units: fleetctl start --no-block -> all up', 'leader SIGKILL -> a new unit running', 'non-leader SIGKILL -> its units running elsewhere', 'non-leader SIGKILL: its units still running there', 'etcd requests/s per machine, idle, 0 units', 'etcd requests/s per machine, idle, 4 units', '5 units: fleetctl start --no-block -> all running', 'etcd requests/s per machine, idle, 16 units'];
  for (const row of rows) {
    expect(stdout, row).toMatch(new RegExp(`^${row.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(ms|req/s|count)\\s+1\\s`, 'm'));
    expect(samples.filter((s) => s.measurement === row && s.subject === 'ours'), row).toHaveLength(1);
  }
  // What the watchdog guarantees, seen by the benchmark too: nothing left running on a killed machine.
  expect(samples.find((s) => s.measurement === 'non-leader SIGKILL: its units still running there')?.value).toBe(0);
}, 180_000);
