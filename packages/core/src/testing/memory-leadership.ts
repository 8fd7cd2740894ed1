import type { MachineId } from '../model/machine.js';
import type { Leadership, LeaderTerm } from '../registry/leadership.js';
import type { InMemoryRegistry } from './memory-registry.js';

/** A candidate waiting in line; `grant` starts its term. */
interface Candidate {
  readonly grant: () => void;
}

/**
 * Leader election over an {@link InMemoryRegistry}, as `EtcdLeadership` behaves: candidates lead one
 * at a time in the order they campaigned; a term's fence is what the registry accepts while the
 * term lasts. {@link depose} ends the current term as a lost lease would (the registry refuses its
 * fence from then on), so tests can see a leader lose and campaign again.
 */
export class InMemoryLeadership implements Leadership {
  /** Every campaign started, in order (by candidate). */
  readonly campaigns: MachineId[] = [];
  #term: { readonly candidate: MachineId; readonly end: (reason: Error) => void } | undefined;
  #queue: Candidate[] = [];
  #terms = 0;

  constructor(private readonly registry: InMemoryRegistry) {}

  /** The candidate leading now, if any. */
  get leader(): MachineId | undefined {
    return this.#term?.candidate;
  }

  campaign(candidate: MachineId, signal: AbortSignal): Promise<LeaderTerm> {
    if (signal.aborted) return Promise.reject(signal.reason);
    this.campaigns.push(candidate);
    if (this.#term === undefined && this.#queue.length === 0) return Promise.resolve(this.#begin(candidate));
    return new Promise<LeaderTerm>((resolve, reject) => {
      const onAbort = (): void => {
        this.#queue = this.#queue.filter((c) => c !== entry);
        reject(signal.reason);
      };
      // The term begins when granted, so that no later campaign can slip in before it.
      const entry: Candidate = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#begin(candidate));
        },
      };
      this.#queue.push(entry);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the current term as a lost lease would; the next candidate in line leads. */
  depose(reason = new Error('leader lease lost')): void {
    this.#term?.end(reason);
  }

  #begin(candidate: MachineId): LeaderTerm {
    const ended = new AbortController();
    const number = ++this.#terms;
    const fence = { key: `engine/leader/${number}`, createRevision: String(number) };
    const end = (reason: Error): void => {
      if (ended.signal.aborted) return;
      ended.abort(reason);
      if (this.registry.leaderFence === fence) this.registry.leaderFence = undefined;
      this.#term = undefined;
      this.#next();
    };
    this.registry.leaderFence = fence;
    this.#term = { candidate, end };
    return {
      signal: ended.signal,
      fence,
      resign: async () => end(new Error('resigned')),
    };
  }

  #next(): void {
    const next = this.#queue.shift();
    next?.grant();
  }
}
