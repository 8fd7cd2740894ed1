import { FleetError } from '@fleet/core';
import { shortMachineId } from '@fleet/core/model';
import type { MachineId } from '@fleet/core/model';
import { formatTabbed } from './tabwriter.js';

/** Where fleetctl writes. Text is written verbatim: callers end lines with `\n`. */
export interface Output {
  /** Results (tables, unit files, "Unit ... launched" lines). */
  out(text: string): void;
  /** Progress, warnings and errors. */
  err(text: string): void;
}

/** One column of a listing, computed from a row of type `R`. */
export interface FieldSpec<R> {
  /** The cell text; `full` asks for untruncated machine IDs and hashes. `-` stands for "none". */
  text(row: R, full: boolean): string;
  /** The value in `--output json`; by default the full text, with `-` as `null`. */
  json?(row: R): unknown;
}

/** The fields a listing offers, by name (fleet's `--fields` names). */
export type FieldTable<R> = Readonly<Record<string, FieldSpec<R>>>;

/** `table` is fleet's tab-aligned text; `json` is an array of objects keyed by field name. */
export type OutputFormat = 'table' | 'json';
export const outputFormats: readonly OutputFormat[] = ['table', 'json'];

/** How to print a listing (the `--fields`, `--full`, `--no-legend` and `--output` flags). */
export interface ListingOptions {
  readonly fields: string;
  readonly full: boolean;
  readonly noLegend: boolean;
  readonly format: OutputFormat;
}

/**
 * Splits a `--fields` value at commas (as fleet: nothing trimmed, so `unit, sub` names the field
 * ` sub`) and checks each name against `table`, in order, calling `onValid` for each valid one.
 * Throws a {@link FleetError} with fleet's words when the list is empty (`Must define output
 * format`) or names an unknown field (`Invalid key in output format: "bogus"`).
 */
export function parseFields<R>(spec: string, table: FieldTable<R>, onValid?: (name: string) => void): string[] {
  if (spec === '') throw new FleetError('INVALID_REQUEST', 'Must define output format');
  const names = spec.split(',');
  for (const name of names) {
    if (!Object.hasOwn(table, name)) throw new FleetError('INVALID_REQUEST', `Invalid key in output format: ${JSON.stringify(name)}`);
    onValid?.(name);
  }
  return names;
}

/** Renders `rows` as fleet does (upper-case legend, TAB-aligned columns) or as a JSON array. */
export function renderListing<R>(rows: readonly R[], table: FieldTable<R>, options: ListingOptions): string {
  const names = parseFields(options.fields, table);
  const specs = names.map((name) => table[name] as FieldSpec<R>);
  if (options.format === 'json') {
    const objects = rows.map((row) => {
      const obj: Record<string, unknown> = {};
      names.forEach((name, i) => {
        const spec = specs[i] as FieldSpec<R>;
        obj[name] = spec.json !== undefined ? spec.json(row) : dashToNull(spec.text(row, true));
      });
      return obj;
    });
    return `${JSON.stringify(objects, null, 2)}\n`;
  }
  const lines: string[][] = [];
  if (!options.noLegend) lines.push(names.map((n) => n.toUpperCase()));
  for (const row of rows) lines.push(specs.map((spec) => cleanCell(spec.text(row, options.full))));
  return formatTabbed(lines);
}

/** fleet's machine ID legend: the full ID, or the 8-character short ID followed by `...`. */
export function machineIdLegend(id: string, full: boolean): string {
  // `shortMachineId` for any string: the API's IDs are not checked here.
  return full ? id : `${shortMachineId(id as MachineId)}...`;
}

/** fleet's machine legend: the ID legend, then `/<ip>` when the IP is known (`c31e44e1.../10.10.1.1`). */
export function machineLegend(id: string, ip: string | undefined, full: boolean): string {
  const legend = machineIdLegend(id, full);
  return ip !== undefined && ip !== '' ? `${legend}/${ip}` : legend;
}

/** A unit hash as listed: 7 hex digits unless `full`. */
export function hashLegend(hash: string, full: boolean): string {
  if (hash === '') return '-';
  return full ? hash : hash.slice(0, 7);
}

/** Metadata as fleet prints it: `k=v` pairs sorted by key, comma-separated; `-` when empty. */
export function metadataLegend(metadata: Readonly<Record<string, string>>): string {
  const keys = Object.keys(metadata).sort();
  if (keys.length === 0) return '-';
  return keys.map((k) => `${k}=${metadata[k] ?? ''}`).join(',');
}

/** Orders strings by UTF-16 code units, as `sort()` without a comparator does. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `-` for an empty value, as fleet prints it. */
export function orDash(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : value;
}

function dashToNull(text: string): string | null {
  return text === '-' ? null : text;
}

// A TAB or line break inside a cell would break the table (Go's tabwriter breaks too).
function cleanCell(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}
