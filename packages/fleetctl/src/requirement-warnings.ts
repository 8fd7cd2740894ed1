import { unknownRequirementOptions, type UnitFile, type UnitName } from '@fleet/engine/model';

/**
 * The warning fleet's fleetctl prints on stderr when it creates a unit (submit, load, start,
 * `--replace`) whose `[X-Fleet]` section holds an option it does not know, kept byte for byte so
 * that scripts reading fleetctl's stderr see the same line:
 * `2026/12/02 03:37:38 WARN fleetctl.go:674: Unit x.service: unrecognized requirement in [X-Fleet] section: "Foo"`
 * (the prefix is fleet's log line: local time, level, its source position). Like fleet, one line
 * per unit, naming one unknown option; fleet picks it at random among several (Go map order), we
 * name the first in the file. `undefined` when every option is known. Pure.
 */
export function unknownRequirementWarning(name: UnitName, file: UnitFile, now: Date): string | undefined {
  const [first] = unknownRequirementOptions(file);
  if (first === undefined) return undefined;
  return `${goLogTimestamp(now)} WARN fleetctl.go:674: Unit ${name}: unrecognized requirement in [X-Fleet] section: ${goQuote(first)}\n`;
}

/** Go's `log` timestamp (`LstdFlags`): `2006/01/02 15:04:05`, local time. */
export function goLogTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const shortEscapes: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** Go's `%q` of a string (`strconv.Quote`): printable characters kept, the rest escaped. */
export function goQuote(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    const short = shortEscapes[c];
    if (short !== undefined) out += short;
    else if (c === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(c)) out += c;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}
