export * from './builders.js';
export * from './memory-registry.js';
export * from './plan-cases.js';
