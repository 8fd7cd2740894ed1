import { systemClock } from '@fleet/core';
import { makeHttpClient } from '../api-client.js';
import { run } from '../cli.js';
import type { CapturedInterrupt, Interrupts } from '../interrupts.js';

/**
 * SIGINT while a command captured it (`journal -f`): the first aborts the command's signal (it
 * then ends with its own exit code), a second one exits at once with 130. Otherwise Node's default
 * applies: the process ends.
 */
const interrupts: Interrupts = {
  capture(): CapturedInterrupt {
    const controller = new AbortController();
    const onSigint = (): void => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new Error('interrupted (Ctrl-C)'));
    };
    process.on('SIGINT', onSigint);
    return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
  },
};

/** Runs fleetctl with `argv` in this process (stdio, environment, SIGINT) and sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  const code = await run(argv, {
    output: {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    },
    env: process.env,
    clock: systemClock,
    makeClient: makeHttpClient,
    interrupts,
    interactive: process.stderr.isTTY === true,
  });
  process.exitCode = code;
}
