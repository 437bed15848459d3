import { deviceSchema, type Device } from '../schemas/device';
import { QUEUE_ROLES, type QueueRole } from '../workflows/task-queues';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A worker process's own settings: the roles it serves, its hardware, where it serves metrics, how it logs. */
export interface WorkerConfig {
  roles: QueueRole[];
  /** Where its engines run; its rollout and train roles serve that device kind's queues. */
  device: Device;
  /** Serve Prometheus metrics at http://<host>:<port>/metrics; none when unset. */
  metricsPort?: number;
  logFormat: LogFormat;
}

/** The flags of `r1 worker`, each overriding its environment variable. */
export interface WorkerFlags {
  queues?: string;
  device?: string;
  threads?: string;
  metricsPort?: string;
  logFormat?: string;
}

export const WORKER_ENV = {
  queues: 'R1_WORKER_QUEUES',
  device: 'R1_WORKER_DEVICE',
  threads: 'R1_WORKER_THREADS',
  metricsPort: 'R1_METRICS_PORT',
  logFormat: 'R1_LOG_FORMAT',
} as const satisfies Record<keyof WorkerFlags, string>;

type Env = Record<string, string | undefined>;

/** A worker's settings from its flags, else the environment; every problem names the flag and the variable. */
export function workerConfig(flags: WorkerFlags, env: Env = process.env): WorkerConfig {
  const value = (key: keyof WorkerFlags) => flags[key] ?? (env[WORKER_ENV[key]] || undefined);
  const where = (key: keyof WorkerFlags) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (${WORKER_ENV[key]})`;
  const roles = (value('queues') ?? QUEUE_ROLES.join(',')).split(',').map((s) => s.trim());
  for (const role of roles) {
    if (!(QUEUE_ROLES as readonly string[]).includes(role)) throw new Error(`${where('queues')}: unknown queue "${role}"; choose from ${QUEUE_ROLES.join(', ')}`);
  }
  const threads = value('threads');
  const port = value('metricsPort');
  const logFormat = value('logFormat') ?? 'text';
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) throw new Error(`${where('logFormat')}: "${logFormat}" is not a log format; choose from ${LOG_FORMATS.join(', ')}`);
  return {
    roles: roles as QueueRole[],
    device: parseDevice(value('device') ?? 'cpu', threads === undefined ? undefined : positiveInt(threads, where('threads')), where('device')),
    ...(port !== undefined && { metricsPort: positiveInt(port, where('metricsPort')) }),
    logFormat: logFormat as LogFormat,
  };
}

/** `cpu`, `cuda` or `cuda:N` (the N-th GPU CUDA sees), with intra-op threads for a CPU. */
export function parseDevice(text: string, threads: number | undefined, where = 'device'): Device {
  const match = /^(cpu|cuda)(?::(\d+))?$/.exec(text.trim());
  if (!match || (match[1] === 'cpu' && match[2] !== undefined)) throw new Error(`${where}: "${text}" is not a device; use cpu, cuda or cuda:N`);
  if (match[1] === 'cuda' && threads !== undefined) throw new Error(`${where}: threads set the CPU's intra-op threads; a CUDA worker takes none`);
  return deviceSchema.parse(match[1] === 'cpu' ? { kind: 'cpu', ...(threads !== undefined && { threads }) } : { kind: 'cuda', deviceId: Number(match[2] ?? 0) });
}

function positiveInt(text: string, where: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${where}: "${text}" is not a positive integer`);
  return n;
}
