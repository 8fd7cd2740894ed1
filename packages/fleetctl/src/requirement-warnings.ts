import type { Clock } from '@fleet/core';
import { unknownRequirementOptions, type UnitFile } from '@fleet/core/model';
import { goQuote, logLine } from './fleet-text.js';

/**
 * The warning fleet's fleetctl prints on stderr when it creates a unit (submit, load, start,
 * `--replace`) whose `[X-Fleet]` section holds an option it does not know, kept byte for byte so
 * that scripts reading fleetctl's stderr see the same line:
 * `2026/12/02 03:37:38 WARN fleetctl.go:674: Unit x.service: unrecognized requirement in [X-Fleet] section: "Foo"`
 * Like fleet, one line per unit, naming one unknown option; fleet picks it at random among several
 * (Go map order), we name the first in the file. `undefined` when every option is known.
 */
export function unknownRequirementWarning(name: string, file: UnitFile, clock: Pick<Clock, 'now'>): string | undefined {
  const [first] = unknownRequirementOptions(file);
  if (first === undefined) return undefined;
  return logLine(clock, 'WARN', 'fleetctl.go:674', `Unit ${name}: unrecognized requirement in [X-Fleet] section: ${goQuote(first)}`);
}
