import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUnitFile, type UnitOption } from '@fleet/core/model';
import { makeHttpClient } from '../api-client.js';
import { run } from '../cli.js';
import type { CliDeps } from '../cli.js';
import { CapturedOutput, SteppingClock } from './captured-output.js';
import { TestFleetApi } from './test-fleet-api.js';

/** What one fleetctl run printed and returned. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The 250 ms polls the run slept through. */
  readonly sleeps: readonly number[];
}

/** Our real API over an in-memory registry (see {@link TestFleetApi}) plus a way to run fleetctl against it in-process. */
export interface Harness {
  readonly api: TestFleetApi;
  /** The temp dir; unit files can be written here. */
  readonly dir: string;
  /** Runs fleetctl with `--endpoint` pointing at the API (unless `env` sets `FLEETCTL_ENDPOINT`). */
  fleetctl(args: readonly string[], env?: Readonly<Record<string, string>>, more?: Partial<CliDeps>): Promise<RunResult>;
  close(): Promise<void>;
}

export const machineA = 'c31e44e1f25c4b2c8e5a6e8b3f1a2b3c';
export const machineB = '595989bb0d5c4a0f9b3e2d1c0b9a8f7e';

/** Options of a unit file text, as fleetctl would send them. */
export function optionsOf(text: string): UnitOption[] {
  return parseUnitFile(text).map((o) => ({ ...o }));
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetctl-test-'));
  const api = await TestFleetApi.start(dir);
  api.machines = [
    { id: machineA, primaryIP: '10.10.1.1', metadata: { region: 'us-west' } },
    { id: machineB, primaryIP: '10.10.1.2', metadata: {} },
  ];
  return {
    api,
    dir,
    async fleetctl(args, env = {}, more = {}) {
      const output = new CapturedOutput();
      const clock = new SteppingClock();
      const endpoint = env['FLEETCTL_ENDPOINT'] === undefined ? ['--endpoint', api.endpoint] : [];
      const code = await run([...endpoint, ...args], { output, env, clock, makeClient: makeHttpClient, ...more });
      return { code, stdout: output.stdout, stderr: output.stderr, sleeps: clock.sleeps };
    },
    async close() {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
