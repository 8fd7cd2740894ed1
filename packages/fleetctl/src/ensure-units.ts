import { FleetError } from '@fleet/engine';
import type { Clock } from '@fleet/engine';
import { hashUnitFile, isTemplate, storedUnitFile } from '@fleet/engine/model';
import type { UnitFile, UnitName } from '@fleet/engine/model';
import type { ApiUnit, FleetApiClient } from './api-client.js';
import type { Output } from './output.js';
import { unknownRequirementWarning } from './requirement-warnings.js';
import { describeOrigin, findUnitSource, resolveUnitSource, unitNameFromArg } from './unit-source.js';
import type { ReadTextFile } from './unit-source.js';

/** A unit that exists in the registry after {@link ensureUnits}. */
export interface EnsuredUnit {
  readonly name: UnitName;
  /** The unit as the registry now holds it (options updated after a replace). */
  readonly unit: ApiUnit;
  readonly outcome: 'created' | 'replaced' | 'unchanged';
}

/** How {@link ensureUnits} behaves. */
export interface EnsureOptions {
  readonly client: FleetApiClient;
  readonly readFile: ReadTextFile;
  readonly output: Output;
  /** `--replace`: update registered units whose local source differs. */
  readonly replace: boolean;
  /** Stamps the warning about unknown `[X-Fleet]` options. */
  readonly clock: Pick<Clock, 'now'>;
}

/**
 * Makes sure a unit exists in the registry for every argument (fleet's `lazyCreateUnits`), in order,
 * stopping at the first error. A missing unit is created from its local file or template with the
 * desired state `inactive` (printing `Unit <name> inactive`). A registered unit whose local source
 * has another hash is an error suggesting `--replace`; with `--replace` its options are replaced
 * and its desired state kept. All names are validated before anything is written. The local source
 * is compared with the registry in the form the registry stores it ({@link storedUnitFile}), so a
 * file whose trailing backslash changes in storage still counts as unchanged. Creating or replacing
 * a unit with unknown `[X-Fleet]` options prints fleet's warning about them on stderr.
 */
export async function ensureUnits(args: readonly string[], options: EnsureOptions): Promise<EnsuredUnit[]> {
  const { client, readFile, output } = options;
  const names = args.map((arg) => unitNameFromArg(arg));
  const done: EnsuredUnit[] = [];
  for (const [i, arg] of args.entries()) {
    const name = names[i] as UnitName;
    const existing = await client.getUnit(name);
    if (existing === undefined) {
      const source = await resolveUnitSource(arg, { client, readFile });
      warnAboutUnknownOptions(name, source.file, options);
      await client.createUnit(name, source.file, 'inactive');
      output.out(`Unit ${name} inactive\n`);
      done.push({
        name,
        unit: { name, options: [...asStored(source.file)], desiredState: 'inactive', currentState: 'inactive' },
        outcome: 'created',
      });
      continue;
    }
    const source = await findUnitSource(arg, { client, readFile });
    if (source === undefined || hashUnitFile(asStored(source.file)) === hashUnitFile(existing.options)) {
      done.push({ name, unit: existing, outcome: 'unchanged' });
      continue;
    }
    if (!options.replace) {
      throw new FleetError(
        'UNIT_EXISTS',
        `unit ${name} in the registry differs from ${describeOrigin(source.origin)}; add --replace to update it`,
      );
    }
    warnAboutUnknownOptions(name, source.file, options);
    await client.createUnit(name, source.file, existing.desiredState);
    output.out(`Unit ${name} replaced\n`);
    done.push({ name, unit: { ...existing, options: [...asStored(source.file)] }, outcome: 'replaced' });
  }
  return done;
}

function warnAboutUnknownOptions(name: UnitName, file: UnitFile, options: EnsureOptions): void {
  const warning = unknownRequirementWarning(name, file, new Date(options.clock.now()));
  if (warning !== undefined) options.output.err(warning);
}

/** The file as the registry will hold it; the file itself when it cannot be stored (the API then says why). */
function asStored(file: UnitFile): UnitFile {
  try {
    return storedUnitFile(file);
  } catch (err) {
    if (err instanceof FleetError) return file;
    throw err;
  }
}

/** Refuses to load or start templates (`foo@.service`): only their instances can run. */
export function refuseTemplates(args: readonly string[], verb: string): void {
  for (const arg of args) {
    const name = unitNameFromArg(arg);
    if (isTemplate(name)) {
      throw new FleetError(
        'INVALID_REQUEST',
        `cannot ${verb} template unit ${name}: ${verb} an instance of it instead (such as ${name.replace('@.', '@1.')})`,
      );
    }
  }
}
