import { hashUnitFile, parseUnitFile, type UnitFile } from '../model/unit-file.js';
import { parseUnitName } from '../model/unit-name.js';
import type { Unit } from '../model/unit.js';

/** A one-line service file running `command`, for the registry contract. */
export const fileOf = (command: string): UnitFile => parseUnitFile(`[Service]\nExecStart=${command}\n`);

/** A unit of that file, launched unless told otherwise. */
export const unitOf = (name: string, file: UnitFile, desiredState: Unit['desiredState'] = 'launched'): Unit => ({ name: parseUnitName(name), file, hash: hashUnitFile(file), desiredState });
