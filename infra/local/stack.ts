import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { LOCAL, s3Env, temporalEnv, type S3Env, type TemporalEnv } from '../../schemas/environment';
import { keys } from '../../schemas/layout';
import { ArtifactStore } from '../../storage/artifact-store';
import { connectClient } from '../temporal-connection';
import { paths } from './paths';
import { launchS3, launchTemporal, type Launched, type ServerPlace } from './servers';
import { ensureTools } from './tools';

/**
 * The embedded stack: a real Temporal dev server (SQLite under .r1/data) and a real SeaweedFS S3
 * server, both on 127.0.0.1, started as detached processes whose pids go to .r1/stack.json so
 * that `down` stops exactly what `up` started. With TEMPORAL_ADDRESS or R1_S3_ENDPOINT/R1_S3_BUCKET
 * set, that service is external and nothing is started for it.
 */

type Component = 'temporal' | 's3';

/** The stack's own place: the fixed LOCAL ports, data under .r1/data. */
const STACK: ServerPlace = {
  dataDir: paths.data,
  logDir: paths.logs,
  temporalPort: Number(LOCAL.temporalAddress.split(':')[1]),
  uiPort: LOCAL.temporalUiPort,
  s3Port: LOCAL.s3Port,
  innerPortOffset: 0,
};

type StackState = Partial<Record<Component, Launched>>;

export interface StackInfo {
  temporalAddress: string;
  temporalUi: string | null;
  s3Endpoint: string;
  bucket: string;
  started: Component[];
  coldStartMs: number;
}

function readState(): StackState {
  return existsSync(paths.stackState) ? (JSON.parse(readFileSync(paths.stackState, 'utf8')) as StackState) : {};
}

function writeState(state: StackState): void {
  mkdirSync(paths.logs, { recursive: true });
  writeFileSync(paths.stackState, JSON.stringify(state, null, 2));
}

/** True when `pid` is alive and still the program we started (pids get reused). */
function isOurs(entry: { pid: number; binary: string } | undefined): boolean {
  if (!entry) return false;
  try {
    const cmdline = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0] === entry.binary;
  } catch {
    return false;
  }
}

export async function poll<T>(what: string, log: string, timeoutMs: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s (last error: ${String(lastError)}); see ${log}`);
}

export async function temporalReady(env: TemporalEnv): Promise<void> {
  const connection = await connectClient(env);
  try {
    await connection.healthService.check({});
  } finally {
    await connection.close();
  }
}

/** A store that asks once and answers at once: the probes poll, so the client's outage retries would only stall them. */
export function probeStore(s3: S3Env): ArtifactStore {
  return ArtifactStore.fromEnv({ ...s3, outageBudgetSeconds: 0.001 });
}

/** Starts what is not running yet and waits until both services answer. Idempotent. */
export async function stackUp(log: (line: string) => void = () => {}): Promise<StackInfo> {
  const began = Date.now();
  const temporal = temporalEnv();
  const s3 = s3Env();
  const state = readState();
  const started: Component[] = [];

  if (!temporal.external || !s3.external) ensureTools(log);
  if (!temporal.external && !isOurs(state.temporal)) {
    state.temporal = launchTemporal(STACK);
    started.push('temporal');
  }
  if (!s3.external && !isOurs(state.s3)) {
    state.s3 = launchS3(STACK);
    started.push('s3');
  }
  writeState(state);

  const store = probeStore(s3);
  await Promise.all([
    poll('Temporal', state.temporal?.log ?? temporal.address, 60_000, () => temporalReady(temporal)),
    poll('S3', state.s3?.log ?? String(s3.endpoint), 60_000, async () => {
      await store.client.send(new ListBucketsCommand({}));
      await store.ensureBucket();
      // A restarted SeaweedFS lists buckets before its volume server serves objects (reads fail
      // with "internal error" for a moment): an object written and read back shows it does.
      if (!s3.external) await store.getBytes((await store.putBytes(store.key(keys.stackProbe()), Buffer.from('ready'))).ref);
    }),
  ]);

  return {
    temporalAddress: temporal.address,
    temporalUi: temporal.external ? null : `http://127.0.0.1:${LOCAL.temporalUiPort}`,
    s3Endpoint: s3.endpoint ?? `AWS S3 (${s3.region})`,
    bucket: s3.bucket,
    started,
    coldStartMs: Date.now() - began,
  };
}

/** Stops, by pid, what `up` started (or just `only`); data under .r1/data stays for the next `up`. */
export async function stackDown(only: Component[] = ['temporal', 's3']): Promise<Component[]> {
  const state = readState();
  const stopped: Component[] = [];
  for (const component of only) {
    const entry = state[component];
    delete state[component];
    if (!isOurs(entry)) continue;
    process.kill(entry!.pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (isOurs(entry) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isOurs(entry)) process.kill(entry!.pid, 'SIGKILL');
    stopped.push(component);
  }
  if (Object.keys(state).length === 0) rmSync(paths.stackState, { force: true });
  else writeState(state);
  return stopped;
}

export interface ComponentStatus {
  component: Component;
  managed: 'local' | 'external';
  pid: number | null;
  running: boolean;
  address: string;
}

export async function stackStatus(): Promise<ComponentStatus[]> {
  const temporal = temporalEnv();
  const s3 = s3Env();
  const state = readState();
  const reachable = async (probe: () => Promise<unknown>) => probe().then(() => true, () => false);
  return [
    {
      component: 'temporal',
      managed: temporal.external ? 'external' : 'local',
      pid: isOurs(state.temporal) ? state.temporal!.pid : null,
      running: await reachable(() => temporalReady(temporal)),
      address: temporal.address,
    },
    {
      component: 's3',
      managed: s3.external ? 'external' : 'local',
      pid: isOurs(state.s3) ? state.s3!.pid : null,
      running: await reachable(() => probeStore(s3).client.send(new ListBucketsCommand({}))),
      address: s3.endpoint ?? `AWS S3 (${s3.region})`,
    },
  ];
}
