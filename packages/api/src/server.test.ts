import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError, silentLogger } from '@fleet/core';
import { InMemoryRegistry } from '@fleet/core/testing';
import { startApiServer, type ApiServer } from './server.js';
import { readApiTls } from './tls.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let dir: string;
const file = (name: string): string => join(dir, name);
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-api-tls-'));
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  // The server's self-signed certificate, for 127.0.0.1.
  openssl('req', '-x509', ...key, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'server.key', '-out', 'server.crt');
  // A CA for clients, one client certificate it signs, and one it does not.
  openssl('req', '-x509', ...key, '-days', '1', '-subj', '/CN=fleet test client CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', ...key, '-subj', '/CN=fleetctl', '-keyout', 'client.key', '-out', 'client.csr');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'client.crt');
  openssl('req', '-x509', ...key, '-days', '1', '-subj', '/CN=intruder', '-keyout', 'rogue.key', '-out', 'rogue.crt');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: ApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const deps = () => {
  const registry = new InMemoryRegistry();
  return { units: registry, cluster: registry, machines: registry, tokenLimit: 100 };
};

function get(url: string, options: { ca?: string; cert?: string; key?: string; method?: string; body?: string } = {}): Promise<Answer> {
  const { method = 'GET', body, ...tls } = options;
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method, ...tls, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('API server over TCP', () => {
  it('answers application/json everywhere (204 included), 405 with Allow, and 400 for an oversized body', async () => {
    server = await startApiServer(deps(), { socketPath: file('plain.sock'), tcp: '127.0.0.1:0' }, silentLogger);
    const base = `http://${server.tcpAddress}/fleet/v1`;
    const created = await get(`${base}/units/a.service`, { method: 'PUT', body: JSON.stringify({ desiredState: 'inactive', options: [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }] }) });
    expect([created.status, created.headers['content-type']]).toEqual([201, 'application/json']);
    const set = await get(`${base}/units/a.service`, { method: 'PUT', body: JSON.stringify({ desiredState: 'inactive' }) });
    expect([set.status, set.headers['content-type'], set.body]).toEqual([204, 'application/json', '']);
    const wrong = await get(`${base}/machines`, { method: 'DELETE' });
    expect([wrong.status, wrong.headers['allow'], wrong.headers['content-type']]).toEqual([405, 'GET, PATCH', 'application/json']);
    const huge = await get(`${base}/machines`, { method: 'PATCH', body: JSON.stringify([{ op: 'add', path: '/x/metadata/k', value: 'v'.repeat(1024 * 1024) }]) });
    expect(huge.status).toBe(400);
    expect(JSON.parse(huge.body)).toEqual({ error: { code: 400, message: 'request body is larger than 1048576 bytes' } });
  });

  it('refuses a non-loopback address without client authentication unless api_allow_remote', async () => {
    await expect(startApiServer(deps(), { socketPath: file('remote.sock'), tcp: '0.0.0.0:0' }, silentLogger)).rejects.toThrow(/refusing to serve the unauthenticated API on 0.0.0.0/);
    const tls = { cert: readFileSync(file('server.crt')), key: readFileSync(file('server.key')) };
    await expect(startApiServer(deps(), { socketPath: file('remote.sock'), tcp: '0.0.0.0:0', tls }, silentLogger)).rejects.toThrow(/api_ca_file for mutual TLS/);
  });

  it('serves HTTPS with a certificate and key', async () => {
    const tls = await readApiTls({ certFile: file('server.crt'), keyFile: file('server.key'), caFile: undefined });
    server = await startApiServer(deps(), { socketPath: file('tls.sock'), tcp: '127.0.0.1:0', tls }, silentLogger);
    const answer = await get(`https://${server.tcpAddress}/fleet/v1/units`, { ca: readFileSync(file('server.crt'), 'utf8') });
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { units: [] }]);
    // Plain HTTP to the TLS port gets no API answer.
    await expect(get(`http://${server.tcpAddress}/fleet/v1/units`)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('with a CA, requires a client certificate it signed (mutual TLS)', async () => {
    const tls = await readApiTls({ certFile: file('server.crt'), keyFile: file('server.key'), caFile: file('ca.crt') });
    server = await startApiServer(deps(), { socketPath: file('mtls.sock'), tcp: '127.0.0.1:0', tls }, silentLogger);
    const url = `https://${server.tcpAddress}/fleet/v1/machines`;
    const ca = readFileSync(file('server.crt'), 'utf8');
    await expect(get(url, { ca })).rejects.toThrow(/certificate required/);
    await expect(get(url, { ca, cert: readFileSync(file('rogue.crt'), 'utf8'), key: readFileSync(file('rogue.key'), 'utf8') })).rejects.toThrow(/socket hang up|unknown ca|ECONNRESET/);
    const answer = await get(url, { ca, cert: readFileSync(file('client.crt'), 'utf8'), key: readFileSync(file('client.key'), 'utf8') });
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { machines: [] }]);
    // The unix socket stays plain HTTP: access to it is the file's permissions.
    const local = await new Promise<number>((resolve, reject) => {
      httpRequest({ socketPath: file('mtls.sock'), path: '/fleet/v1/machines' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(local).toBe(200);
  });
});

describe('readApiTls', () => {
  it.each([
    ['an unreadable certificate', () => ({ certFile: file('missing.crt'), keyFile: file('server.key'), caFile: undefined }), /api_cert_file: cannot read .*missing.crt/],
    ['an unreadable key', () => ({ certFile: file('server.crt'), keyFile: file('missing.key'), caFile: undefined }), /api_key_file: cannot read .*missing.key/],
    ['an unreadable CA', () => ({ certFile: file('server.crt'), keyFile: file('server.key'), caFile: file('missing-ca.crt') }), /api_ca_file: cannot read/],
    ['a key that does not match the certificate', () => ({ certFile: file('server.crt'), keyFile: file('client.key'), caFile: undefined }), /api_cert_file: cannot serve TLS with/],
    ['a file that is not PEM', () => ({ certFile: file('client.csr'), keyFile: file('server.key'), caFile: undefined }), /api_cert_file: cannot serve TLS with/],
  ])('refuses %s, naming the option', async (_what, config, message) => {
    const err = await readApiTls(config()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as Error).message).toMatch(message);
  });
});
