import type { FleetApiClient } from './api-client.js';
import { machineLegend } from './output.js';

/**
 * Best-effort machine IPs for legends such as `c31e44e1.../10.10.1.1`, memoised for one fleetctl
 * invocation like fleet's `cachedMachineState`. The machine list is fetched on first use and again
 * (once per ID) when an unknown machine shows up; fetch errors only cost the IP in the legend.
 */
export class MachineDirectory {
  private ips: Map<string, string> | undefined;
  private readonly refreshedFor = new Set<string>();

  constructor(private readonly client: Pick<FleetApiClient, 'listMachines'>) {}

  /** The machine's legend; `full` prints the whole ID. Never rejects. */
  async legend(id: string, full = false): Promise<string> {
    return machineLegend(id, await this.ip(id), full);
  }

  /** The machine's public IP, or `undefined` when unknown. Never rejects. */
  async ip(id: string): Promise<string | undefined> {
    if (this.ips === undefined || (!this.ips.has(id) && !this.refreshedFor.has(id))) {
      if (this.ips !== undefined) this.refreshedFor.add(id);
      await this.load();
    }
    return this.ips?.get(id);
  }

  private async load(): Promise<void> {
    const ips = new Map<string, string>();
    try {
      for (const m of await this.client.listMachines()) ips.set(m.id, m.primaryIP);
    } catch {
      // best effort: a legend without the IP is still useful
    }
    this.ips = ips;
  }
}
