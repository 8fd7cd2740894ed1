export { InMemoryUnitManager, type UnitManagerMethod } from './memory-unit-manager.js';
export { unitManagerContract } from './unit-manager-contract.js';
