
import type { FleetApiClient, ApiUnit } from '../api-client.js';
import { unitNameFromArg } from '../unit-source.js';

/**
 * The registered units the arguments name, in argument order, skipping names the registry does not
 * know (fleet's `findUnits`: stopping or unloading a unit that is not there is not an error).
 * All names are validated first.
 */
export async function findUnits(client: FleetApiClient, args: readonly string[]): Promise<ApiUnit[]> {
  const names = [...new Set(args.map((arg) => unitNameFromArg(arg)))];
  const found: ApiUnit[] = [];
  for (const name of names) {
    const unit = await client.getUnit(name);
    if (unit !== undefined) found.push(unit);
  }
  return found;
}
