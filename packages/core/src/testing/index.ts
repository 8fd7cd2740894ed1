export { aMachine, aRequirements, aSnapshot, aUnit, scheduled } from './builders.js';
export { FakeClock } from './fake-clock.js';
export { InMemoryLeadership } from './memory-leadership.js';
export { InMemoryRegistry } from './memory-registry.js';
export { RecordingLogger, type RecordedLogLine } from './recording-logger.js';
export { registryContract, type RegistryUnderTest } from './registry-contract.js';
export { eventually, withDeadline } from './deadline.js';
