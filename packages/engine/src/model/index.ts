export * from './unit-name.js';
export * from './unit-file.js';
export * from './unit.js';
export * from './machine.js';
export * from './requirements.js';
export * from './glob.js';
