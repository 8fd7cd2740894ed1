/**
 * `node scripts/dist/compare-corpus.js --ours ENDPOINT --reference ENDPOINT [--fleetctl PATH] [--only NAME]`:
 * submits every case of the unit-file corpus (test/compat/corpus) with fleet's own fleetctl to two
 * running clusters, ours and fleet's, and prints one row per case: what each made of it and
 * whether they agree, then the details of every difference and the totals. The endpoints may also
 * come from `CORPUS_OURS` / `CORPUS_REFERENCE`, the fleetctl from `CORPUS_FLEETCTL`. Exits 1 when a
 * case differs that is not a known difference (or a known one agrees), 0 otherwise. Only units named
 * `uf-...` are created, and each is destroyed after its case.
 */
import { parseArgs } from 'node:util';
import { corpusCases, differences, knownDifferences, runCorpusCase, summarise, type CaseResult } from './compat/corpus.js';

const usage = 'usage: compare-corpus --ours ENDPOINT --reference ENDPOINT [--fleetctl PATH] [--only NAME]';

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ours: { type: 'string' }, reference: { type: 'string' }, fleetctl: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const ours = values.ours ?? process.env['CORPUS_OURS'];
  const reference = values.reference ?? process.env['CORPUS_REFERENCE'];
  const fleetctl = values.fleetctl ?? process.env['CORPUS_FLEETCTL'] ?? '/work/shared/reference/fleet/fleetctl';
  if (values.help === true || ours === undefined || reference === undefined) {
    process.stderr.write(`${usage}\n`);
    return values.help === true ? 0 : 2;
  }
  const cases = corpusCases().filter((c) => values.only === undefined || c.name.includes(values.only));
  const rows: string[][] = [['CASE', 'OURS', "FLEET'S", 'VERDICT']];
  const details: string[] = [];
  let identical = 0;
  let unexpected = 0;
  for (const c of cases) {
    const [mine, theirs] = await Promise.all([runCorpusCase(fleetctl, ours, c), runCorpusCase(fleetctl, reference, c)]);
    const fields = differences(mine, theirs);
    const known = knownDifferences[c.name];
    if (fields.length === 0) identical++;
    if ((fields.length === 0) === (known !== undefined)) unexpected++;
    const verdict = fields.length === 0 ? (known === undefined ? 'same' : 'same (listed as a known difference!)') : known === undefined ? 'DIFFERENT' : 'different (known)';
    rows.push([c.name, summarise(mine), summarise(theirs), verdict]);
    if (fields.length > 0) details.push(describe(c.name, fields, mine, theirs, known));
  }
  process.stdout.write(table(rows.map((r) => r.map(oneLine))));
  if (details.length > 0) process.stdout.write(`\n${details.join('\n')}`);
  process.stdout.write(`\nfiles: ${cases.length}, identical: ${identical}, different: ${cases.length - identical} (${unexpected} not as listed in known-differences.ts)\n`);
  return unexpected === 0 ? 0 : 1;
}

function describe(name: string, fields: readonly (keyof CaseResult)[], mine: CaseResult, theirs: CaseResult, known: string | undefined): string {
  const lines = [`== ${name}: ${fields.join(', ')} differ${known === undefined ? '' : ` (known: ${known})`}`];
  for (const field of fields) {
    lines.push(`-- ours ${field}: ${JSON.stringify(mine[field])}`, `-- fleet's ${field}: ${JSON.stringify(theirs[field])}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Columns padded to their widest cell, two spaces apart. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}\n`).join('');
}

/** Table cells are one line each, tabs shown as spaces. */
function oneLine(cell: string): string {
  return cell.replace(/[\t\r\n]+/g, ' ');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`compare-corpus: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
