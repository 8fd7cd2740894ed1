import type { CommandModule } from 'yargs';
import type { CommandDeps, GlobalArgs } from './context.js';

/** fleetctl's version. */
export const fleetctlVersion = '0.1.0';

/** The line `fleetctl version` and `fleetctl --version` print. */
export const versionLine = `fleetctl version ${fleetctlVersion}`;

/** `fleetctl version`. */
export function versionCommand(deps: CommandDeps): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'version',
    describe: 'Print the version and exit',
    // fleet ignores arguments after `version`.
    builder: (y) => y.strict(false),
    handler: () => {
      deps.output.out(`${versionLine}\n`);
    },
  };
}
