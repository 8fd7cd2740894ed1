export * from './builders.js';
export * from './memory-registry.js';
