export { aMachine, aRequirements, aSnapshot, aUnit, scheduled } from './builders.js';
export { InMemoryRegistry } from './memory-registry.js';
