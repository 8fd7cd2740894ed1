import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../local-cluster/paths.js';
import { generatedCases } from './generated-cases.js';

const exec = promisify(execFile);

/** Where the committed cases live, one unit file per case, named after what it tests. */
export const corpusDir: string = join(repoRoot, 'test/compat/corpus');

/** One case: a unit file's name and its exact bytes. */
export interface CorpusCase {
  readonly name: string;
  readonly bytes: Buffer;
}

/**
 * What a fleet cluster made of one case, as fleet's users see it through fleetctl: whether the
 * submit succeeded, why not (the error, normalised), what `fleetctl cat` prints and the full hash
 * `fleetctl list-unit-files` lists. For a template case, `cat` and `hash` cover every unit submitted.
 */
export interface CaseResult {
  readonly accepted: boolean;
  /** The refusal's message without what differs between clusters for the same reason; `undefined` when accepted. */
  readonly errorClass: string | undefined;
  readonly cat: string;
  readonly hash: string;
}

/** Every case: the committed files (sorted; not the README) and the generated ones. */
export function corpusCases(dir: string = corpusDir): CorpusCase[] {
  const files = readdirSync(dir).filter((name) => !name.startsWith('.') && name !== 'README.md').sort();
  return [...files.map((name) => ({ name, bytes: readFileSync(join(dir, name)) })), ...generatedCases()];
}

/** Prefix of every unit the corpus submits: it shares clusters with other work. */
export const unitPrefix = 'uf-';

/**
 * The arguments fleetctl is given for a case, in order (each its own `fleetctl submit`):
 * - `x.type` is submitted as `uf-x.type`;
 * - a template `x@.type` is submitted itself, then as the instances `uf-x@1.type` and `uf-x@2.type`,
 *   which fleetctl makes from the registered template;
 * - a template whose name starts with `local-` is submitted only as the instance `uf-x@1.type`,
 *   which fleetctl makes from the local template file.
 */
export function submissions(caseName: string): string[] {
  const file = `${unitPrefix}${caseName}`;
  const template = /^(.*)@\.([^.]+)$/.exec(file);
  if (template === null) return [file];
  const instance = (n: number): string => `${template[1]}@${n}.${template[2]}`;
  return caseName.startsWith('local-') ? [instance(1)] : [file, instance(1), instance(2)];
}

/**
 * Submits one case with the fleetctl at `fleetctlBin` (fleet's own, or `node` + ours: give the
 * command and its leading arguments) to the cluster at `endpoint`, reads back what fleetctl shows,
 * and destroys what it created. The case's file is written to a fresh directory under its unit
 * name; fleetctl runs there, so messages name the same paths on every cluster.
 */
export async function runCorpusCase(fleetctlBin: string | readonly string[], endpoint: string, file: CorpusCase): Promise<CaseResult> {
  const [command, ...lead] = typeof fleetctlBin === 'string' ? [fleetctlBin] : fleetctlBin;
  if (command === undefined) throw new Error('no fleetctl command given');
  const dir = mkdtempSync(join(tmpdir(), 'uf-corpus-'));
  const run = (...args: string[]): Promise<Run> => runIn(dir, command, [...lead, '--endpoint', endpoint, ...args]);
  try {
    writeFileSync(join(dir, `${unitPrefix}${file.name}`), file.bytes);
    const args = submissions(file.name);
    let refusal: Run | undefined;
    for (const arg of args) {
      const r = await run('submit', arg);
      if (r.code !== 0) {
        refusal = r;
        break;
      }
    }
    let cat = '';
    for (const arg of args) {
      const r = await run('cat', arg);
      cat += `== ${arg}\n${r.code === 0 ? r.stdout : `(exit ${r.code}) ${r.stdout}${r.stderr}`}`;
    }
    const list = await run('list-unit-files', '--full', '--no-legend', '--fields', 'unit,hash');
    const stem = `${unitPrefix}${file.name.replace(/@?\.[^.]*$/, '')}`;
    const ours = (line: string): boolean => line.startsWith(`${stem}.`) || line.startsWith(`${stem}@`);
    const hash = list.stdout.split('\n').filter(ours).join('\n');
    return {
      accepted: refusal === undefined,
      errorClass: refusal === undefined ? undefined : errorClass(`${refusal.stdout}${refusal.stderr}`, dir),
      cat,
      hash,
    };
  } finally {
    await cleanUp(run, file.name);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Destroys every unit of the case, whatever happened: the clusters are shared. */
async function cleanUp(run: (...args: string[]) => Promise<Run>, caseName: string): Promise<void> {
  const args = submissions(caseName);
  // A template's instances first, the template last (fleet refuses nothing here, but keep the order natural).
  await run('destroy', ...[...args].reverse());
}

/**
 * The reason of a refusal, without what differs between clusters for the same reason: the
 * `Error creating units:` lines fleetctl printed (its warnings and progress dropped), with the case's
 * directory shown as `<dir>` and an API refusal reduced to its status (`API error 400`), since each
 * server words its refusals its own way.
 */
export function errorClass(output: string, dir: string): string {
  const lines = output.split('\n').filter((line) => /^Error\b/.test(line));
  const text = (lines.length > 0 ? lines : [output.trim()]).join('\n');
  return text.split(dir).join('<dir>').replace(/googleapi: Error (\d+): .*$/gm, 'API error $1');
}

/** The fields in which two results differ; empty when they agree. */
export function differences(ours: CaseResult, theirs: CaseResult): (keyof CaseResult)[] {
  return (['accepted', 'errorClass', 'cat', 'hash'] as const).filter((k) => ours[k] !== theirs[k]);
}

/** One line of a result for a table: `accepted 1a2b3c4` or `refused: <class>`. */
export function summarise(result: CaseResult): string {
  if (!result.accepted) return `refused: ${(result.errorClass ?? '').split('\n')[0] ?? ''}`;
  const hashes = [...result.hash.matchAll(/\t([0-9a-f]{40})/g)].map((m) => (m[1] ?? '').slice(0, 7));
  return `accepted ${hashes.length === 0 ? '(not listed)' : hashes.join(',')}`;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function runIn(cwd: string, command: string, args: readonly string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, timeout: 60_000, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export { knownDifferences } from './known-differences.js';
