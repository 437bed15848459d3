import { readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalEnv, type TemporalEnv } from '../schemas/environment';

/** Connection settings shared by clients and workers: address, TLS files, API key. */
function options(env: TemporalEnv) {
  const tls = env.tls && {
    serverNameOverride: env.tls.serverName,
    serverRootCACertificate: env.tls.serverRootCaPath ? readFileSync(env.tls.serverRootCaPath) : undefined,
    clientCertPair:
      env.tls.clientCertPath && env.tls.clientKeyPath
        ? { crt: readFileSync(env.tls.clientCertPath), key: readFileSync(env.tls.clientKeyPath) }
        : undefined,
  };
  // Temporal Cloud's API keys need TLS; an empty tls object means "TLS with system roots".
  return { address: env.address, tls: tls ?? (env.apiKey ? true : undefined), apiKey: env.apiKey };
}

export async function connectClient(env: TemporalEnv = temporalEnv()): Promise<Connection> {
  return Connection.connect({ ...options(env), connectTimeout: 5000 });
}

export async function connectWorker(env: TemporalEnv = temporalEnv()): Promise<NativeConnection> {
  return NativeConnection.connect(options(env));
}
