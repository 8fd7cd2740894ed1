import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../cli-errors.js';
import type { GlobalArgs } from './context.js';

type HelpArgs = GlobalArgs & { command?: string };

/**
 * `fleetctl help [COMMAND]`, listed in help and offered by completion. It never runs:
 * `resolveCommandLine` turns `help [COMMAND]` into `[COMMAND] --help` (the topic prefix-matched
 * like a command) before yargs sees it.
 */
export function helpCommand(): CommandModule<GlobalArgs, HelpArgs> {
  return {
    command: 'help [command]',
    describe: 'Help about any command',
    builder: (y) => y.positional('command', { type: 'string', describe: 'The command to explain' }) as Argv<HelpArgs>,
    handler: () => {
      throw new UsageError('"help" must be rewritten by resolveCommandLine; run "fleetctl --help"');
    },
  };
}
