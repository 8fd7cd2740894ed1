/**
 * `npm run demo` (bootstrap has run as `predemo`): brings up a 3-machine local cluster, starts
 * examples/hello.service and examples/web.service with fleetctl, shows where they run, and leaves
 * the cluster running for the user to explore.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readClusterState, repoRoot } from './local-cluster/cluster.js';
import { httpRequest } from './local-cluster/http.js';
import { displayPath, fleetctlArgs, fleetctlBin } from './local-cluster/paths.js';
import { pollUntil } from './local-cluster/processes.js';

const dir = join(repoRoot, '.local-cluster');
const cli = join(repoRoot, 'scripts/dist/local-cluster-cli.js');
const webUrl = 'http://127.0.0.1:18080/';

async function main(): Promise<void> {
  const t0 = Date.now();
  heading('1. local cluster: etcd, dockerd, 3 x (systemd --user + fleetd)');
  await run('local-cluster-cli up', process.execPath, [cli, 'up', '--machines', '3', '--dir', dir], 300_000);
  const state = readClusterState(dir);
  const first = state?.machines[0];
  if (first === undefined) throw new Error(`no machine recorded in ${dir}/state.json after up`);
  if (!existsSync(fleetctlBin)) throw new Error(`fleetctl is not built: ${fleetctlBin} does not exist (run npm run build)`);
  const fleetctl = (args: readonly string[], timeoutMs = 60_000): Promise<void> =>
    run(`fleetctl ${args.join(' ')}`, process.execPath, [...fleetctlArgs(first), ...args], timeoutMs);

  heading('2. fleetctl start examples/hello.service examples/web.service (blocks until active)');
  await fleetctl(['start', 'examples/hello.service', 'examples/web.service'], 180_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n(the cluster is left running: see ${dir}/m*/fleetd.log, or npm run cluster:down)`, { cause: err });
  });

  heading('3. fleetctl list-machines');
  await fleetctl(['list-machines']);
  heading('4. fleetctl list-units');
  await fleetctl(['list-units']);
  heading('5. docker ps (one engine shared by the simulated machines)');
  await run('docker ps', 'docker', ['ps', '--format', 'table {{.Names}}\t{{.Status}}\t{{.Command}}'], 30_000);
  heading(`6. web.service answers on ${webUrl}`);
  const page = await pollUntil(`${webUrl} to answer`, async () => {
    const res = await httpRequest({ url: webUrl }, { timeoutMs: 2_000 });
    return res.status >= 200 && res.status < 300 ? res.body : undefined;
  }, { timeoutMs: 15_000, intervalMs: 250 }).catch((err: unknown) => `(no answer: ${(err as Error).message})`);
  print(page.trim());

  heading('next');
  print('the cluster keeps running. Point fleetctl at it with:');
  print(`  ${displayPath(join(dir, 'fleetctl'))} list-units`);
  print('or:');
  print(`  export FLEETCTL_ENDPOINT=unix://${first.apiSocket}`);
  print(`  node ${displayPath(fleetctlBin)} list-units`);
  print('stop it (exactly the processes it started): npm run cluster:down');
  print(`demo done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Runs a command with inherited stdio; rejects with the exit status, or after `timeoutMs`. */
function run(what: string, command: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: repoRoot });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${what}: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else reject(new Error(`${what} failed (${signal ?? `exit ${String(code)}`})`));
    });
  });
}

function heading(text: string): void {
  print(`\n== ${text}`);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
