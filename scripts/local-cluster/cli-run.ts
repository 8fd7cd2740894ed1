import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** The built local cluster CLI (run it with `process.execPath`). */
export const localClusterCli: string = join(repoRoot, 'scripts/dist/local-cluster-cli.js');

/** How one CLI run ended. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the local cluster CLI with `args` from the repository root and resolves with its exit
 * status and output, whatever the status (a timeout is status -1).
 */
export function runLocalClusterCli(args: readonly string[], { timeoutMs = 300_000 }: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [localClusterCli, ...args], { cwd: repoRoot, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
