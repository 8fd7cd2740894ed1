import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configDefaults, loadConfig } from './config.js';
import { planReload } from './config-reload.js';

const base = 'etcd_servers=http://127.0.0.1:2379\nmetadata=rack=r1\napi_socket=/run/fleet.sock\nunits_directory=/run/fleet/units/\n';
const load = (extra: string) => loadConfig({ fileText: `${base}${extra}` });

describe('planReload', () => {
  it.each([
    { name: 'nothing changed: nothing to apply', extra: '', changed: [], kept: [] },
    { name: 'metadata changes', extra: 'metadata=rack=r2,disk=ssd\n', changed: ['metadata'], kept: [] },
    { name: 'the TTL, the engine and the log level change', extra: 'agent_ttl=1m\nengine_reconcile_interval=5\ndisable_engine=true\nverbosity=1\n', changed: ['agent_ttl', 'engine_reconcile_interval', 'disable_engine', 'verbosity'], kept: [] },
    { name: 'etcd endpoints and the timeout change (fleetd reconnects)', extra: 'etcd_servers=http://10.0.0.1:2379\netcd_request_timeout=2\n', changed: ['etcd_servers', 'etcd_request_timeout'], kept: [] },
    { name: 'the API socket keeps its running value', extra: 'api_socket=/tmp/other.sock\n', changed: [], kept: ['api_socket'] },
    { name: 'identity, keyspace and systemd keep theirs', extra: 'machine_id=0123456789abcdef0123456789abcdef\netcd_key_prefix=/other/\nunits_directory=/tmp/u/\nsystemd_bus_address=unix:path=/tmp/bus\n', changed: [], kept: ['machine_id', 'etcd_key_prefix', 'units_directory', 'systemd_bus_address'] },
    { name: 'a mix: what may change does, the rest stays', extra: 'metadata=rack=r3\napi_listen=127.0.0.1:1234\nshutdown_leave_units=true\n', changed: ['metadata', 'shutdown_leave_units'], kept: ['api_listen'] },
  ])('$name', ({ extra, changed, kept }) => {
    const current = load('');
    const next = load(extra);
    const plan = planReload(current, next);
    expect(plan.changed).toEqual(changed);
    expect(plan.kept).toEqual(kept);
    expect(plan.config).toEqual({
      ...next,
      apiSocket: current.apiSocket,
      apiListen: current.apiListen,
      machineId: current.machineId,
      etcdKeyPrefix: current.etcdKeyPrefix,
      unitsDirectory: current.unitsDirectory,
      systemdBusAddress: current.systemdBusAddress,
    });
  });

  it('the TLS files of the API keep theirs', () => {
    const plan = planReload(load('api_listen=127.0.0.1:49153\n'), load('api_listen=127.0.0.1:49153\napi_cert_file=/c.pem\napi_key_file=/k.pem\n'));
    expect(plan).toMatchObject({ changed: [], kept: ['api_cert_file/api_key_file/api_ca_file'] });
    expect(plan.config.apiTls).toBeUndefined();
  });

  // A new option must be classified (reloadable or not), or a reload would silently drop it.
  it('the etcd TLS files and credentials change and reconnect (grouped like the API TLS files)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-reload-'));
    const [cert, key] = [join(dir, 'c.pem'), join(dir, 'k.pem')];
    for (const f of [cert, key]) writeFileSync(f, 'PEM');
    const plan = planReload(load(''), load(`etcd_certfile=${cert}\netcd_keyfile=${key}\netcd_username=u\netcd_password=p\n`));
    expect(plan).toMatchObject({ changed: ['etcd_cafile/etcd_certfile/etcd_keyfile', 'etcd_username/etcd_password'], kept: [] });
    expect(plan.config.etcdAuth).toEqual({ username: 'u', password: 'p' });
  });

  it.each(Object.keys(configDefaults).filter((o) => !/^(api_(cert|key|ca)_file|etcd_(cafile|certfile|keyfile|username|password))$/.test(o)))('classifies %s', (option) => {
    const plan = planReload(loadConfig({}), loadConfig({ flags: { [option]: alternatives[option] ?? '' } }));
    expect([...plan.changed, ...plan.kept]).toEqual([option]);
  });
});

/** A valid value other than the default, per option. */
const alternatives: Readonly<Record<string, string>> = {
  etcd_servers: 'http://10.0.0.9:2379', etcd_key_prefix: '/x/', etcd_request_timeout: '3', metadata: 'a=b', public_ip: '10.0.0.9',
  agent_ttl: '7s', engine_reconcile_interval: '9', disable_engine: 'true', units_directory: '/x/', systemd_user: 'true',
  systemd_bus_address: 'unix:path=/x', machine_id: '0123456789abcdef0123456789abcdef', machine_id_file: '/x', api_socket: '/x.sock',
  api_listen: '127.0.0.1:1', api_allow_remote: 'true', token_limit: '7', verbosity: '2', shutdown_leave_units: 'true',
};
