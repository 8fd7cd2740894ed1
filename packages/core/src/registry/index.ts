export { codec, type UnitRecord } from './codec.js';
export { ClusterState, applyWatchEvents } from './cluster-state.js';
export { type ClusterView, type ClusterViewSource, type StateFilter, type WatchEvent } from './cluster-view.js';
export { KeySchema } from './keys.js';
export { type LeaderTerm, type Leadership } from './leadership.js';
export { RegistryOutages } from './outages.js';
export { type ChangeFeed, type ChangeScope, type ClusterReader, type ClusterSnapshot, type CreateUnitOutcome, type LeaderFence, type MachineMetadataStore, type MachineSchedule, type MachineScheduleReader, type PlanningInput, type PresenceLeaseHealth, type ReplaceUnitOutcome, type ScheduleChange, type ScheduleWriter, type UnitStateSink, type UnitStateWriteOutcome, type UnitStateWrites, type UnitStore, type WriteOutcome } from './registry.js';
export { compareKeys } from './sorted-keys.js';
