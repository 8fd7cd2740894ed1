export * from './keys.js';
export * from './codec.js';
export * from './registry.js';
export * from './etcd-registry.js';
export * from './presence.js';
export * from './watch.js';
export * from './etcd-client.js';
export * from './outages.js';
