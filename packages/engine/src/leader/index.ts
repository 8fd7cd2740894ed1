export * from './leadership.js';
export * from './etcd-leadership.js';
