/**
 * The messages between `npm run bench:scale` and its fleetd worker processes (Node IPC), and the
 * parent's side of it: one request at a time per kind, answered by a reply with the same `id`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { MachineState } from '@fleet/core/model';
import { stopProcess } from '../local-cluster/processes.js';

export interface StartRequest {
  readonly kind: 'start';
  readonly etcdUrl: string;
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly machines: readonly MachineState[];
  /** Runs the engine too (one machine): a fleetd with its own cluster cache. */
  readonly engine: boolean;
}

export type Request =
  | StartRequest
  | { readonly kind: 'kill'; readonly ids: readonly string[] }
  | { readonly kind: 'memory' }
  | { readonly kind: 'engine' }
  | { readonly kind: 'stop' };

/** One engine pass that wrote something: its read of the view, its planning, its write (ms). */
export interface EnginePass {
  readonly at: number;
  readonly viewMs: number;
  /** From the view to the write, less the time spent fetching unit files. */
  readonly planMs: number;
  readonly filesMs: number;
  readonly writeMs: number;
  readonly tasks: number;
}

export interface EngineReport {
  readonly passes: readonly EnginePass[];
  /** A pass over the full cluster with nothing to change, timed in the planner (see fleetd-worker). */
  readonly steady: { readonly units: number; readonly machines: number; readonly inputMs: number; readonly planMs: number; readonly tasks: number } | undefined;
}

export interface MemoryReport {
  readonly rss: number;
  readonly heapUsed: number;
  /** RSS before any fleetd started in the process. */
  readonly rssBefore: number;
  readonly machines: number;
  readonly warnings: number;
  readonly errors: number;
  readonly firstProblems: readonly string[];
}

export type Reply =
  | { readonly kind: 'started'; readonly ms: number }
  | { readonly kind: 'killed' }
  | { readonly kind: 'memory'; readonly memory: MemoryReport }
  | { readonly kind: 'engine'; readonly engine: EngineReport }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly message: string };

/** A worker process as the parent sees it. */
export class Worker {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private readonly child: ChildProcess;
  private exited = false;

  constructor(script: string, readonly label: string) {
    this.child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
    this.child.on('message', (m: { id: number; reply: Reply }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.reply.kind === 'error') w?.reject(new Error(`${label}: ${m.reply.message}`));
      else w?.resolve(m.reply);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`${label} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async call<K extends Reply['kind']>(request: Request, kind: K, timeoutMs = 600_000): Promise<Extract<Reply, { kind: K }>> {
    if (this.exited) throw new Error(`${this.label} has exited`);
    const id = this.next++;
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      new Promise<Reply>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        this.child.send({ id, request });
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.label}: no answer to ${request.kind} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (reply.kind !== kind) throw new Error(`${this.label}: expected ${kind}, got ${reply.kind}`);
    return reply as Extract<Reply, { kind: K }>;
  }

  /** Asks the worker to stop its fleetds and exit; then stops exactly its PID if it is still there. */
  async stop(): Promise<void> {
    if (!this.exited) await this.call({ kind: 'stop' }, 'stopped', 20_000).catch(() => undefined);
    if (!this.exited && this.pid > 0) await stopProcess(this.pid, 5_000);
  }
}
