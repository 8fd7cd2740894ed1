/**
 * Why an operation on a local cluster was refused or failed:
 * - `USAGE`: the request itself is wrong (bad option value, bad metadata, unknown machine);
 * - `NOT_UP`: no cluster is recorded in the dir;
 * - `NOT_RUNNING` / `ALREADY_RUNNING`: the process the operation needs is gone, or already runs;
 * - `UNAVAILABLE`: something the cluster needs is missing (the original fleet's binaries, a build).
 */
export type LocalClusterErrorCode = 'USAGE' | 'NOT_UP' | 'NOT_RUNNING' | 'ALREADY_RUNNING' | 'UNAVAILABLE';

/** An operation on a local cluster that was refused before it changed anything, or could not be done. */
export class LocalClusterError extends Error {
  override readonly name = 'LocalClusterError';
  constructor(
    readonly code: LocalClusterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
