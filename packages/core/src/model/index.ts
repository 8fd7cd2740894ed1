export { isRunningState, isStartedState, isTransitionalState } from './active-state.js';
export { parseBooleanWord } from './boolean-word.js';
export { globLiteralPrefix, globMatch } from './glob.js';
export { applyMetadataOverrides, isMachineId, metadataKeyPattern, parseMachineId, parseMetadata, patchMetadataOverrides, shortMachineId, type MachineId, type MachineState, type Metadata, type MetadataChange, type MetadataOverrides } from './machine.js';
export { atMostOnceHoldMs, atMostOnceMarginMs, noRequirements, parseRequirements, requirementsProblems, unknownRequirementOptions, type Requirements } from './requirements.js';
export { hasInstallSection, hashUnitFile, optionValues, parseUnitFile, serializeUnitFile, storedUnitFile, unitFileProblem, type UnitFile, type UnitOption } from './unit-file.js';
export { isTemplate, parseUnitName, templateOf, templateSuffixes, unitNameProblem, unitSuffixes, withDefaultSuffix, type UnitName } from './unit-name.js';
export { isTargetState, targetStates, type ScheduledUnit, type TargetState, type Unit, type UnitState } from './unit.js';
