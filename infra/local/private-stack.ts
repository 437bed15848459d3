import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL, s3Env, temporalEnv } from '../../schemas/environment';
import { keys } from '../../schemas/layout';
import { launchS3, launchTemporal, type Launched, type ServerPlace } from './servers';
import { poll, probeStore, temporalReady } from './stack';

/**
 * Servers of one's own (servers.ts), on other ports and in a temporary folder, for fault tests
 * and the chaos bench, which kill and restart them: the stack everyone else uses is never touched.
 * `env` points clients, in-process workers and worker processes at them.
 */
export class PrivateStack {
  private temporal: Launched | undefined;
  private s3: Launched | undefined;

  private constructor(private readonly place: ServerPlace) {}

  static async start(portBase = 17000): Promise<PrivateStack> {
    const dir = mkdtempSync(join(tmpdir(), 'r1-private-stack-'));
    const stack = new PrivateStack({
      dataDir: join(dir, 'data'),
      logDir: join(dir, 'logs'),
      temporalPort: portBase + 233,
      uiPort: null,
      s3Port: portBase + 333,
      innerPortOffset: portBase - 7000 + 100,
    });
    await Promise.all([stack.startTemporal(), stack.startS3()]);
    return stack;
  }

  get env(): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: `127.0.0.1:${this.place.temporalPort}`,
      R1_S3_ENDPOINT: `http://127.0.0.1:${this.place.s3Port}`,
      R1_S3_BUCKET: LOCAL.bucket,
      AWS_ACCESS_KEY_ID: LOCAL.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL.secretAccessKey,
    };
  }

  /** Where one of SeaweedFS's inner servers listens, by its default port (9333 master, 8888 filer, 9340 volume). */
  innerPort(defaultPort: number): number {
    return defaultPort + this.place.innerPortOffset;
  }

  async startTemporal(): Promise<void> {
    this.temporal = launchTemporal(this.place);
    const env = temporalEnv({ ...process.env, ...this.env });
    await poll('private Temporal', this.temporal.log, 60_000, () => temporalReady(env));
  }

  async startS3(): Promise<void> {
    this.s3 = launchS3(this.place);
    const store = probeStore(s3Env({ ...process.env, ...this.env }));
    await poll('private S3', this.s3.log, 60_000, async () => {
      await store.ensureBucket();
      await store.getBytes((await store.putBytes(store.key(keys.stackProbe()), Buffer.from('ready'))).ref);
    });
  }

  killTemporal(): Promise<void> {
    return kill(this.temporal);
  }

  killS3(): Promise<void> {
    return kill(this.s3);
  }

  async stop(): Promise<void> {
    await Promise.all([this.killTemporal(), this.killS3()]);
    rmSync(join(this.place.dataDir, '..'), { recursive: true, force: true });
  }
}

/** SIGKILL, as a crash would, and wait until the process is gone. */
async function kill(server: Launched | undefined): Promise<void> {
  if (!server) return;
  try {
    process.kill(server.pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(server.pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
