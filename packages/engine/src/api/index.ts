export * from './wire.js';
export * from './request.js';
export * from './routes.js';
export * from './discovery.js';
export * from './machines-routes.js';
export * from './tls.js';
export * from './server.js';
