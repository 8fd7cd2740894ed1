import type { FleetApiClient } from './api-client.js';
import { machineLegend } from './output.js';

/** Every machine's public IP, by machine ID (one `GET /machines`). Rejects like the client. */
export async function machineIps(client: Pick<FleetApiClient, 'listMachines'>): Promise<Map<string, string>> {
  return new Map((await client.listMachines()).map((m) => [m.id, m.primaryIP]));
}

/**
 * Best-effort machine IPs for legends such as `c31e44e1.../10.10.1.1`, memoised for one fleetctl
 * invocation like fleet's `cachedMachineState`. The machine list is fetched on first use and again
 * (once per ID) when an unknown machine shows up; fetch errors only cost the IP in the legend.
 */
export class MachineDirectory {
  private ips: Map<string, string> | undefined;
  private readonly refreshedFor = new Set<string>();

  constructor(private readonly client: Pick<FleetApiClient, 'listMachines'>) {}

  /**
   * The machine's legend with the short ID, or `undefined` when the machine is not in the list (or
   * the list cannot be read): fleet then leaves the ` on <machine>` of its lines out. Never rejects.
   */
  async legend(id: string): Promise<string | undefined> {
    if (this.ips === undefined || (!this.ips.has(id) && !this.refreshedFor.has(id))) {
      if (this.ips !== undefined) this.refreshedFor.add(id);
      this.ips = await machineIps(this.client).catch(() => new Map<string, string>());
    }
    return this.ips.has(id) ? machineLegend(id, this.ips.get(id), false) : undefined;
  }
}
