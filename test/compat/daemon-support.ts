import { readFileSync } from 'node:fs';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { httpRequest } from '../../scripts/local-cluster/http.js';
import { pollUntil } from '../../scripts/local-cluster/processes.js';
import { fleetctl, type CommandResult } from '../e2e/support.js';

/**
 * Asks `GET /fleet/v1/machines` of one machine's API over and over (every 50 ms) until stopped;
 * `stop()` resolves with how many answers came and every one that was not a 200 (or no answer).
 */
export function watchApi(machine: LocalMachine): { stop(): Promise<{ answers: number; failures: string[] }> } {
  let running = true;
  let answers = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const res = await httpRequest({ socketPath: machine.apiSocket, path: '/fleet/v1/machines' }, { timeoutMs: 5_000 });
        answers++;
        if (res.status !== 200) failures.push(`${res.status} ${res.body}`);
      } catch (err) {
        failures.push(`no answer: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { answers, failures };
    },
  };
}

/** Waits until a line of `logFile` written after `fromByte` contains `text`; returns that line. */
export function waitForLogLine(logFile: string, text: string, fromByte = 0, timeoutMs = 20_000): Promise<string> {
  return pollUntil(`"${text}" in ${logFile}`, () => {
    const lines = readFileSync(logFile, 'utf8').slice(fromByte).split('\n');
    return lines.find((l) => l.includes(text));
  }, { timeoutMs, intervalMs: 100 });
}

/** The size of a log file now: pass it to {@link waitForLogLine} to look only at what comes next. */
export function logSize(logFile: string): number {
  return readFileSync(logFile, 'utf8').length;
}

/** Sends `signal` to a machine's running fleetd. */
export function signalFleetd(machine: LocalMachine, signal: NodeJS.Signals): number {
  if (machine.fleetdPid === undefined) throw new Error(`fleetd of ${machine.name} is not running`);
  process.kill(machine.fleetdPid, signal);
  return machine.fleetdPid;
}

/**
 * `fleetctl start ARGS` that must succeed (exit 0). Unlike `fleetctlOk`, progress lines on stderr
 * ("Waiting for ...", printed while a busy machine starts the unit) are allowed.
 */
export async function startOk(machine: LocalMachine, ...args: string[]): Promise<CommandResult> {
  const result = await fleetctl(machine, 'start', ...args);
  if (result.code !== 0) throw new Error(`fleetctl start ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}
