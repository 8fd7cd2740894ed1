import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has fleet defaults', () => {
    const c = loadConfig({});
    expect(c.etcdKeyPrefix).toBe('/_coreos.com/fleet/');
    expect(c.agentTtlSeconds).toBe(30);
    expect(c.engineReconcileIntervalMs).toBe(2000);
    expect(c.unitsDirectory).toBe('/run/fleet/units/');
    expect(c.disableEngine).toBe(false);
  });

  it('layers file < FLEET_* env < flags', () => {
    const c = loadConfig({
      fileText: 'metadata=rack=r1, disk=ssd\nagent_ttl=1m30s\npublic_ip=10.0.0.1\ndisable_engine=true\n',
      env: { FLEET_PUBLIC_IP: '10.0.0.2', FLEET_UNRELATED: 'x', PATH: '/bin' },
      flags: { 'public-ip': '10.0.0.3' },
    });
    expect(c.metadata).toEqual({ rack: 'r1', disk: 'ssd' });
    expect(c.agentTtlSeconds).toBe(90);
    expect(c.publicIp).toBe('10.0.0.3');
    expect(c.disableEngine).toBe(true);
  });

  it.each([
    [{ fileText: 'no_such_option=1' }, /no_such_option: unknown option/],
    [{ fileText: 'agent_ttl=soon' }, /agent_ttl: "soon" is not a duration/],
    [{ fileText: 'metadata=rack' }, /metadata: invalid metadata pair "rack"/],
    [{ fileText: 'etcd_servers=127.0.0.1:2379' }, /etcd_servers: "127.0.0.1:2379" is not an http\(s\) URL/],
    [{ fileText: 'units_directory=relative/dir' }, /units_directory: must be an absolute path/],
    [{ fileText: 'disable_engine=maybe' }, /disable_engine: "maybe" is not a boolean/],
    [{ flags: { engine_reconcile_interval: '0' } }, /engine_reconcile_interval: "0" is not a positive number/],
    [{ fileText: '[section]\nx=1' }, /sections are not supported/],
    [{ fileText: 'etcd_cafile=/nonexistent/etcd-ca.pem' }, /etcd_cafile: cannot read \/nonexistent\/etcd-ca.pem: ENOENT/],
    [{ fileText: 'etcd_certfile=/nonexistent/c.pem' }, /etcd_certfile: needs etcd_keyfile/],
    [{ fileText: 'etcd_keyfile=/nonexistent/k.pem' }, /etcd_keyfile: needs etcd_certfile/],
    [{ env: { FLEET_ETCD_USERNAME: 'root' } }, /etcd_username: needs etcd_password/],
    [{ fileText: 'etcd_password=secret' }, /etcd_password: needs etcd_username/],
    [{ fileText: 'enable_grpc=true' }, /enable_grpc: the gRPC engine-agent transport is not supported/],
    [{ fileText: 'api_listen=127.0.0.1:49153\napi_cert_file=/c.pem' }, /api_key_file: must be set together with api_cert_file/],
    [{ fileText: 'api_listen=127.0.0.1:49153\napi_key_file=/k.pem' }, /api_cert_file: must be set together with api_key_file/],
    [{ fileText: 'api_listen=127.0.0.1:49153\napi_ca_file=/ca.pem' }, /api_ca_file: needs api_cert_file and api_key_file/],
    [{ fileText: 'api_cert_file=/c.pem\napi_key_file=/k.pem' }, /api_cert_file: TLS applies to the TCP listener: set api_listen too/],
  ])('rejects bad values with the option name: %j', (sources, message) => {
    expect(() => loadConfig(sources)).toThrow(message);
  });

  it('reads the API TLS options (certificate and key, optional CA)', () => {
    expect(loadConfig({}).apiTls).toBeUndefined();
    const tls = loadConfig({ fileText: 'api_listen=0.0.0.0:49153\napi_cert_file=/etc/fleet/api.crt\napi_key_file=/etc/fleet/api.key\n' }).apiTls;
    expect(tls).toEqual({ certFile: '/etc/fleet/api.crt', keyFile: '/etc/fleet/api.key', caFile: undefined });
    const mutual = loadConfig({
      fileText: 'api_listen=0.0.0.0:49153\napi_cert_file=/etc/fleet/api.crt\napi_key_file=/etc/fleet/api.key\n',
      env: { FLEET_API_CA_FILE: '/etc/fleet/clients-ca.crt' },
    }).apiTls;
    expect(mutual?.caFile).toBe('/etc/fleet/clients-ca.crt');
  });

  it('reads the etcd TLS files (checked readable) and the etcd credentials', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));
    const [ca, cert, key] = ['ca.pem', 'client.pem', 'client-key.pem'].map((f) => join(dir, f)) as [string, string, string];
    for (const f of [ca, cert, key]) writeFileSync(f, 'PEM');
    expect(loadConfig({}).etcdTls).toBeUndefined();
    expect(loadConfig({}).etcdAuth).toBeUndefined();
    expect(loadConfig({ fileText: `etcd_cafile=${ca}\n` }).etcdTls).toEqual({ caFile: ca, certFile: undefined, keyFile: undefined });
    const config = loadConfig({ fileText: `etcd_cafile=${ca}\netcd_certfile=${cert}\netcd_keyfile=${key}\netcd_username=fleet\n`, env: { FLEET_ETCD_PASSWORD: ' s3cret ' } });
    expect(config.etcdTls).toEqual({ caFile: ca, certFile: cert, keyFile: key });
    expect(config.etcdAuth).toEqual({ username: 'fleet', password: ' s3cret ' });
    expect(() => loadConfig({ fileText: `etcd_certfile=${cert}\netcd_keyfile=${key}.missing\n` })).toThrow(`etcd_keyfile: cannot read ${key}.missing: ENOENT`);
  });

  it('accepts fleet options that do nothing here when they are left empty or off', () => {
    expect(() => loadConfig({ fileText: 'etcd_cafile=\nenable_grpc=false\nverify_units=true\ndisable_watches=true\n' })).not.toThrow();
  });
});
