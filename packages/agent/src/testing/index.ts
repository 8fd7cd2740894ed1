export { InMemoryUnitManager, type UnitManagerMethod } from './memory-unit-manager.js';
