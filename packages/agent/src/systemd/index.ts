/**
 * The systemd side of the agent, for tests on a real systemd: the D-Bus facade and the helpers
 * that turn its properties into fleet's view. Production code uses the package's main entry.
 */
export { journalctlArgs, readJournal } from './journal-reader.js';
export { toUnitStatusDetail, unitControlGroup } from './systemd-unit-inspector.js';
export { Systemd1, type UnitProperties } from './systemd1.js';
