import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkMetadata } from './cluster-control.js';
import { LocalClusterError } from './cluster-error.js';
import type { FleetdImplementation } from './cluster-state.js';

/** One invocation of the local cluster CLI, checked: every value in it is usable as it is. */
export type CliCommand =
  | {
      verb: 'up';
      dir: string;
      machines: number;
      /** Per machine, by position; undefined: the cluster's default. */
      metadata: string[] | undefined;
      agentTtl: string | undefined;
      engineReconcileInterval: number | undefined;
      implementation: FleetdImplementation;
      referenceDir: string | undefined;
    }
  | { verb: 'down'; dir: string }
  | { verb: 'status'; dir: string; output: 'text' | 'json' }
  | { verb: 'kill' | 'start' | 'reload' | 'env'; dir: string; machine: string }
  | { verb: 'stop'; dir: string; machine: string; timeoutMs: number }
  | { verb: 'add'; dir: string; metadata: string }
  | { verb: 'etcd'; dir: string; action: 'stop' | 'start' }
  | { verb: 'help' };

export const usage = `usage: local-cluster-cli <verb> [--dir D] ...
  up [--machines N] [--metadata K=V,K=V]... [--agent-ttl 5s] [--engine-reconcile-interval S]
     [--implementation ours|reference] [--reference-dir R]
  down | status [--output text|json]
  kill M | stop M [--timeout 30s] | start M | reload M | env M     (M: a machine, m1, m2, ...)
  add [--metadata K=V,K=V] | etcd stop | etcd start`;

const defaultStopTimeoutMs = 30_000;

/** The options each verb takes besides `--dir` and `--help`. */
const verbOptions: Readonly<Record<string, readonly string[]>> = {
  up: ['machines', 'metadata', 'agent-ttl', 'engine-reconcile-interval', 'implementation', 'reference-dir'],
  down: [],
  status: ['output'],
  kill: [],
  stop: ['timeout'],
  start: [],
  reload: [],
  env: [],
  add: ['metadata'],
  etcd: [],
};
const machineVerbs = new Set(['kill', 'stop', 'start', 'reload', 'env']);

/**
 * Parses the CLI's arguments; `defaultDir` is the cluster dir when `--dir` is absent. Throws a
 * `USAGE` LocalClusterError naming the problem (unknown verb or option, an option the verb does not
 * take, a missing or extra argument, a bad value).
 */
export function parseCliCommand(argv: readonly string[], defaultDir: string): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        machines: { type: 'string' },
        metadata: { type: 'string', multiple: true },
        'agent-ttl': { type: 'string' },
        'engine-reconcile-interval': { type: 'string' },
        implementation: { type: 'string' },
        'reference-dir': { type: 'string' },
        output: { type: 'string' },
        timeout: { type: 'string' },
      },
    });
  } catch (err) {
    throw usageError((err as Error).message, err);
  }
  const { values, positionals } = parsed;
  const [verb, ...args] = positionals;
  if (values.help === true) return { verb: 'help' };
  if (verb === undefined) throw usageError('no verb given');
  const allowed = verbOptions[verb];
  if (allowed === undefined) throw usageError(`unknown verb ${JSON.stringify(verb)}`);
  const given = Object.keys(values).filter((name) => name !== 'dir' && name !== 'help');
  const foreign = given.filter((name) => !allowed.includes(name));
  if (foreign.length > 0) throw usageError(`${verb} does not take ${foreign.map((name) => `--${name}`).join(', ')}`);
  const expected = machineVerbs.has(verb) || verb === 'etcd' ? 1 : 0;
  if (args.length !== expected) {
    throw usageError(expected === 0 ? `${verb} takes no argument (got ${args.join(' ')})` : `${verb} takes exactly one ${verb === 'etcd' ? 'action (stop or start)' : 'machine (m1, m2, ...)'}`);
  }
  const dir = resolve(values.dir ?? defaultDir);
  const arg = args[0] ?? '';
  switch (verb) {
    case 'up': {
      const metadata = values.metadata?.map(checkMetadata);
      const machines = values.machines === undefined ? (metadata?.length ?? 3) : parseMachines(values.machines);
      if (metadata !== undefined && metadata.length > machines) throw usageError(`${metadata.length} --metadata values for ${machines} machines`);
      return {
        verb,
        dir,
        machines,
        metadata,
        agentTtl: values['agent-ttl'] === undefined ? undefined : checkAgentTtl(values['agent-ttl']),
        engineReconcileInterval: values['engine-reconcile-interval'] === undefined ? undefined : parseSeconds('--engine-reconcile-interval', values['engine-reconcile-interval']),
        implementation: parseImplementation(values.implementation),
        referenceDir: values['reference-dir'],
      };
    }
    case 'status':
      if (values.output !== undefined && values.output !== 'text' && values.output !== 'json') throw usageError(`--output must be text or json, not ${values.output}`);
      return { verb, dir, output: values.output ?? 'text' };
    case 'stop':
      return { verb, dir, machine: arg, timeoutMs: values.timeout === undefined ? defaultStopTimeoutMs : parseDurationMs('--timeout', values.timeout) };
    case 'add': {
      if ((values.metadata?.length ?? 0) > 1) throw usageError('add takes one --metadata (one machine joins)');
      return { verb, dir, metadata: checkMetadata(values.metadata?.[0] ?? '') };
    }
    case 'etcd':
      if (arg !== 'stop' && arg !== 'start') throw usageError(`etcd takes stop or start, not ${JSON.stringify(arg)}`);
      return { verb, dir, action: arg };
    case 'kill':
    case 'start':
    case 'reload':
    case 'env':
      return { verb, dir, machine: arg };
    case 'down':
      return { verb, dir };
    default:
      throw usageError(`unknown verb ${JSON.stringify(verb)}`);
  }
}

function parseMachines(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 250) throw usageError(`--machines must be an integer from 1 to 250, not ${text}`);
  return n;
}

function parseImplementation(text: string | undefined): FleetdImplementation {
  if (text === undefined) return 'ours';
  if (text === 'ours' || text === 'reference') return text;
  throw usageError(`--implementation must be ours or reference, not ${text}`);
}

function parseSeconds(option: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw usageError(`${option} must be a positive number of seconds, not ${text}`);
  return n;
}

/** Go-style durations (`30s`, `2m`, `1m30s`, `500ms`); a bare number means seconds. */
function parseDurationMs(option: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return parseSeconds(option, text) * 1000;
  const unitMs: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let total = 0;
  let consumed = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    total += Number(part[1]) * (unitMs[part[2] ?? 's'] ?? 1_000);
    consumed += part[0].length;
  }
  if (consumed !== text.length || total <= 0) throw usageError(`${option} must be a duration such as 30s or 1m30s, not ${JSON.stringify(text)}`);
  return total;
}

/** Both fleetds take a Go duration for `agent_ttl`; ours wants at least a second. */
function checkAgentTtl(text: string): string {
  if (parseDurationMs('--agent-ttl', text) < 1_000) throw usageError(`--agent-ttl must be at least 1s, not ${text}`);
  return text;
}

function usageError(message: string, cause?: unknown): LocalClusterError {
  return new LocalClusterError('USAGE', message, cause === undefined ? undefined : { cause });
}
