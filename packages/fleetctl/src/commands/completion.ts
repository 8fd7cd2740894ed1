import type { Argv, CommandModule } from 'yargs';
import { completionScript, completionShells } from '../completion-scripts.js';
import type { CompletionShell } from '../completion-scripts.js';
import type { CommandDeps, GlobalArgs } from './context.js';

type CompletionArgs = GlobalArgs & { shell: string };

/** `fleetctl completion bash|zsh`: print the shell completion script (no API access). */
export function completionCommand(deps: CommandDeps): CommandModule<GlobalArgs, CompletionArgs> {
  return {
    command: 'completion <shell>',
    describe: 'Print a shell completion script: source <(fleetctl completion bash)',
    builder: (y) =>
      y.positional('shell', { type: 'string', choices: completionShells, demandOption: true, describe: 'The shell to complete for' }) as Argv<CompletionArgs>,
    handler: (args) => {
      deps.output.out(completionScript(args.shell as CompletionShell));
    },
  };
}
