import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { LOCAL, s3Env, temporalEnv, type TemporalEnv } from '../../schemas/environment';
import { keys } from '../../schemas/layout';
import { SEARCH_ATTRIBUTES } from '../../schemas/search-attributes';
import { ArtifactStore } from '../../storage/artifact-store';
import { connectClient } from '../temporal-connection';
import { paths } from './paths';
import { ensureTools, toolPath } from './tools';

/**
 * The embedded stack: a real Temporal dev server (SQLite under .r1/data) and a real SeaweedFS S3
 * server, both on 127.0.0.1, started as detached processes whose pids go to .r1/stack.json so
 * that `down` stops exactly what `up` started. With TEMPORAL_ADDRESS or R1_S3_ENDPOINT/R1_S3_BUCKET
 * set, that service is external and nothing is started for it.
 */

type Component = 'temporal' | 's3';
type StackState = Partial<Record<Component, { pid: number; binary: string; log: string }>>;

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

function launch(component: Component, binary: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  mkdirSync(paths.logs, { recursive: true });
  const log = join(paths.logs, `${component}.log`);
  const out = openSync(log, 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out], env });
  child.unref();
  return { pid: child.pid!, binary, log };
}

async function poll<T>(what: string, log: string, timeoutMs: number, probe: () => Promise<T>): Promise<T> {
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

async function temporalReady(env: TemporalEnv): Promise<void> {
  const connection = await connectClient(env);
  try {
    await connection.healthService.check({});
  } finally {
    await connection.close();
  }
}

function startTemporal(): { pid: number; binary: string; log: string } {
  const [ip, port] = LOCAL.temporalAddress.split(':');
  mkdirSync(paths.data, { recursive: true });
  const args = [
    'server', 'start-dev',
    '--db-filename', join(paths.data, 'temporal.sqlite'),
    // Write-ahead log, synced at checkpoints rather than every commit: a third less server CPU per
    // workflow or activity task (measured), and a crash of the server process still loses nothing.
    '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal',
    '--ip', ip, '--port', port,
    '--ui-ip', ip, '--ui-port', String(LOCAL.temporalUiPort),
    '--namespace', LOCAL.namespace,
    '--log-level', 'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  return launch('temporal', toolPath('temporal'), args);
}

function startS3(): { pid: number; binary: string; log: string } {
  const dir = join(paths.data, 's3');
  mkdirSync(dir, { recursive: true });
  const args = [
    'mini',
    `-dir=${dir}`,
    '-ip=127.0.0.1', '-ip.bind=127.0.0.1',
    `-s3.port=${LOCAL.s3Port}`,
    '-master.telemetry=false', '-webdav=false', '-admin.ui=false',
    `-bucket=${LOCAL.bucket}`,
  ];
  // SeaweedFS takes its static admin identity from these two variables; without them it runs open.
  const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL.secretAccessKey };
  return launch('s3', toolPath('weed'), args, env);
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
    state.temporal = startTemporal();
    started.push('temporal');
  }
  if (!s3.external && !isOurs(state.s3)) {
    state.s3 = startS3();
    started.push('s3');
  }
  writeState(state);

  const store = ArtifactStore.fromEnv(s3);
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
      running: await reachable(() => ArtifactStore.fromEnv(s3).client.send(new ListBucketsCommand({}))),
      address: s3.endpoint ?? `AWS S3 (${s3.region})`,
    },
  ];
}
