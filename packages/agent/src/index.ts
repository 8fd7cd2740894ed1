export { Agent } from './agent.js';
export { formatUnitStatus } from './format-unit-status.js';
export { purgeUnits } from './purge.js';
export { SystemdConnection } from './systemd/systemd-connection.js';
export { SystemdUnitInspector } from './systemd/systemd-unit-inspector.js';
export { SystemdUnitManager } from './systemd/systemd-unit-manager.js';
export { type UnitStatusDetail } from './unit-inspector.js';
export { type UnitManager } from './unit-manager.js';
export { UnitStatePublisher } from './unit-state-publisher.js';
