import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { InvalidConfigError } from '@fleet/core';

/**
 * TLS of the API's TCP listener. Certificate and key go together; with a CA file, clients must
 * present a certificate it signed. The files are read (and checked) when fleetd starts.
 */
export interface ApiTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string | undefined;
}

/**
 * TLS material of the API's TCP listener, PEM-encoded. With `ca`, clients must present a
 * certificate signed by it (mutual TLS); without, the API is encrypted but not authenticated.
 */
export interface ApiTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

/**
 * Reads the files named by fleetd's `api_cert_file`, `api_key_file` and `api_ca_file` and checks
 * that they make a usable TLS context (parseable PEM, a key that matches the certificate), so a
 * mistake stops fleetd at start rather than failing every connection. Throws
 * {@link InvalidConfigError} naming the option.
 */
export async function readApiTls(config: ApiTlsConfig): Promise<ApiTls> {
  const read = (option: string, path: string): Promise<Buffer> =>
    readFile(path).catch((err: unknown) => {
      throw new InvalidConfigError(option, `cannot read ${path}: ${(err as Error).message}`);
    });
  const [cert, key, ca] = await Promise.all([
    read('api_cert_file', config.certFile),
    read('api_key_file', config.keyFile),
    config.caFile === undefined ? undefined : read('api_ca_file', config.caFile),
  ]);
  const tls: ApiTls = ca === undefined ? { cert, key } : { cert, key, ca };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new InvalidConfigError('api_cert_file', `cannot serve TLS with ${config.certFile} and ${config.keyFile}: ${(err as Error).message}`);
  }
  return tls;
}
