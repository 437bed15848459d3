import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL } from '../../schemas/environment';
import { SEARCH_ATTRIBUTES } from '../../schemas/search-attributes';
import { ensureS3Security } from './s3-security';
import { toolPath } from './tools';

/**
 * The embedded servers, each one process started detached: a real Temporal dev server (SQLite)
 * and a real SeaweedFS S3 server, on 127.0.0.1 only. Where they listen and keep their data is a
 * `ServerPlace`: the stack's own (LOCAL ports, .r1/data), or another, so that a fault test can
 * kill and restart servers of its own without touching the stack everyone else uses.
 */
export interface ServerPlace {
  dataDir: string;
  logDir: string;
  temporalPort: number;
  /** The Web UI's port; null runs the server headless. */
  uiPort: number | null;
  s3Port: number;
  /** SeaweedFS's inner servers (master, volume, filer) listen at their default ports plus this. */
  innerPortOffset: number;
}

export interface Launched {
  pid: number;
  binary: string;
  log: string;
}

function launch(place: ServerPlace, name: string, binary: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Launched {
  mkdirSync(place.logDir, { recursive: true });
  const log = join(place.logDir, `${name}.log`);
  const out = openSync(log, 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out], env, cwd });
  child.unref();
  return { pid: child.pid!, binary, log };
}

export function launchTemporal(place: ServerPlace): Launched {
  mkdirSync(place.dataDir, { recursive: true });
  const args = [
    'server', 'start-dev',
    '--db-filename', join(place.dataDir, 'temporal.sqlite'),
    // Write-ahead log, synced at checkpoints rather than every commit: a third less server CPU per
    // workflow or activity task (measured), and a crash of the server process still loses nothing.
    '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal',
    '--ip', '127.0.0.1', '--port', String(place.temporalPort),
    ...(place.uiPort === null ? ['--headless'] : ['--ui-ip', '127.0.0.1', '--ui-port', String(place.uiPort)]),
    '--namespace', LOCAL.namespace,
    '--log-level', 'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  return launch(place, 'temporal', toolPath('temporal'), args);
}

export function launchS3(place: ServerPlace): Launched {
  const dir = join(place.dataDir, 's3');
  mkdirSync(dir, { recursive: true });
  const inner = (port: number) => port + place.innerPortOffset;
  const args = [
    'mini',
    `-dir=${dir}`,
    '-ip=127.0.0.1', '-ip.bind=127.0.0.1',
    `-s3.port=${place.s3Port}`,
    `-master.port=${inner(9333)}`, `-volume.port=${inner(9340)}`, `-filer.port=${inner(8888)}`,
    // Nothing writable but the S3 API (see s3-security.ts): no inner HTTP endpoints, telemetry,
    // WebDAV, admin UI, Iceberg or Lance.
    '-disableHttp',
    '-master.telemetry=false', '-webdav=false', '-admin.ui=false', `-admin.port=${inner(23646)}`,
    '-s3.port.iceberg=0', '-s3.port.lance=0',
    `-bucket=${LOCAL.bucket}`,
  ];
  // SeaweedFS takes its static admin identity from these two variables; without them it runs open.
  const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL.secretAccessKey };
  return launch(place, 's3', toolPath('weed'), args, env, ensureS3Security(place.dataDir));
}
