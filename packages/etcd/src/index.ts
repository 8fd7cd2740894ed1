export { checkEtcdAccess, connectEtcd, type EtcdAccess, type EtcdConnection, type EtcdConnectionOptions } from './etcd-client.js';
export { EtcdLeadership } from './etcd-leadership.js';
export { EtcdRegistry } from './etcd-registry.js';
export { MachinePresence } from './presence.js';
export { EtcdClusterCache, type ClusterCacheOptions } from './cluster-cache.js';
