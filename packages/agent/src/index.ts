export * from './unit-manager.js';
export * from './plan.js';
export * from './apply.js';
export * from './agent.js';
export * from './unit-state-publisher.js';
export * from './fleetd.js';
