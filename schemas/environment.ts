import { z } from 'zod';

/**
 * Where the product finds Temporal and S3. Read from the process environment; when nothing is
 * set, the embedded stack's addresses are used (see infra/local). Setting TEMPORAL_ADDRESS or
 * R1_S3_ENDPOINT / R1_S3_BUCKET points the product at real services and nothing local is started.
 */
export const TemporalEnvSchema = z.object({
  address: z.string().min(1),
  namespace: z.string().min(1),
  apiKey: z.string().optional(),
  tls: z
    .object({
      clientCertPath: z.string().optional(),
      clientKeyPath: z.string().optional(),
      serverRootCaPath: z.string().optional(),
      serverName: z.string().optional(),
    })
    .optional(),
  /** Task queues are `<prefix>orchestration`, `<prefix>cpu`, `<prefix>compute`. */
  taskQueuePrefix: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-"'),
  /** True when the address came from the environment rather than the embedded default. */
  external: z.boolean(),
});
export type TemporalEnv = z.infer<typeof TemporalEnvSchema>;

export const S3EnvSchema = z.object({
  /** Undefined means AWS S3's own endpoints for `region`. */
  endpoint: z.string().url().optional(),
  region: z.string().min(1),
  bucket: z.string().min(3),
  /** Key prefix under which everything of this deployment lives, '' or ending in '/'. */
  prefix: z.string().regex(/^$|\/$/, 'must be empty or end with "/"'),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
  forcePathStyle: z.boolean(),
  /** Multipart part size for large uploads; weights are multi-GB, so at least 64 MiB by default. */
  partSizeBytes: z.number().int().min(5 * 1024 * 1024),
  /** How long a request keeps retrying an unreachable or failing store before it gives up. */
  outageBudgetSeconds: z.number().positive(),
  external: z.boolean(),
});
export type S3Env = z.infer<typeof S3EnvSchema>;

/** The embedded stack's fixed addresses and credentials (127.0.0.1 only). */
export const LOCAL = {
  temporalAddress: '127.0.0.1:7233',
  temporalUiPort: 8233,
  namespace: 'default',
  s3Port: 8333,
  bucket: 'r1-pipeline',
  accessKeyId: 'r1local',
  secretAccessKey: 'r1local-secret',
  region: 'us-east-1',
} as const;

type Env = Record<string, string | undefined>;

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new Error(`expected true or false, got "${value}"`);
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`invalid ${what} configuration from the environment: ${problems}`);
}

export function temporalEnv(env: Env = process.env): TemporalEnv {
  const external = Boolean(env.TEMPORAL_ADDRESS);
  const tlsPaths = {
    clientCertPath: env.TEMPORAL_TLS_CERT || undefined,
    clientKeyPath: env.TEMPORAL_TLS_KEY || undefined,
    serverRootCaPath: env.TEMPORAL_TLS_CA || undefined,
    serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
  };
  const wantsTls = flag(env.TEMPORAL_TLS) ?? Object.values(tlsPaths).some(Boolean);
  return parse(
    TemporalEnvSchema,
    {
      address: env.TEMPORAL_ADDRESS || LOCAL.temporalAddress,
      namespace: env.TEMPORAL_NAMESPACE || LOCAL.namespace,
      apiKey: env.TEMPORAL_API_KEY || undefined,
      tls: wantsTls ? tlsPaths : undefined,
      taskQueuePrefix: env.R1_TASK_QUEUE_PREFIX ?? 'r1-',
      external,
    },
    'Temporal',
  );
}

export function s3Env(env: Env = process.env): S3Env {
  const external = Boolean(env.R1_S3_ENDPOINT || env.R1_S3_BUCKET);
  const endpoint = external ? env.R1_S3_ENDPOINT || undefined : `http://127.0.0.1:${LOCAL.s3Port}`;
  const prefix = env.R1_S3_PREFIX ?? '';
  return parse(
    S3EnvSchema,
    {
      endpoint,
      region: env.R1_S3_REGION || env.AWS_REGION || LOCAL.region,
      bucket: env.R1_S3_BUCKET || LOCAL.bucket,
      prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
      accessKeyId: external ? env.AWS_ACCESS_KEY_ID : LOCAL.accessKeyId,
      secretAccessKey: external ? env.AWS_SECRET_ACCESS_KEY : LOCAL.secretAccessKey,
      // Custom endpoints (SeaweedFS, MinIO, Ceph, R2) want path-style; AWS wants virtual hosts.
      forcePathStyle: flag(env.R1_S3_FORCE_PATH_STYLE) ?? endpoint !== undefined,
      partSizeBytes: env.R1_S3_PART_SIZE_MB ? Number(env.R1_S3_PART_SIZE_MB) * 1024 * 1024 : 64 * 1024 * 1024,
      outageBudgetSeconds: env.R1_S3_OUTAGE_SECONDS ? Number(env.R1_S3_OUTAGE_SECONDS) : 300,
      external,
    },
    'S3',
  );
}
