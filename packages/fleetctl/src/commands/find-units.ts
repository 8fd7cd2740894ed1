import type { FleetApiClient, ApiUnit } from '../api-client.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { unitNameMangle } from '../unit-source.js';

/**
 * fleet's `findUnits`: the registered units the arguments name, in argument order (a name given
 * twice comes twice), skipping names the registry does not know; one `GET /units`. When the list
 * cannot be read, fails as fleet does: the error alone on stderr, exit code 1.
 */
export async function findUnits(client: FleetApiClient, args: readonly string[]): Promise<ApiUnit[]> {
  let units: ApiUnit[];
  try {
    units = await client.listUnits();
  } catch (err) {
    throw new CommandFailed([goError(err)], 1, { cause: err });
  }
  const byName = new Map(units.map((u) => [u.name, u]));
  return args.flatMap((arg) => byName.get(unitNameMangle(arg)) ?? []);
}
