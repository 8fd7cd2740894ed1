export * from './wire.js';
export * from './routes.js';
export * from './server.js';
