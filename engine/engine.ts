/**
 * The engine as the rest of the product sees it: a trainer (trainer.ts) running on its own
 * thread, with each trainer function forwarded as an async method. Arguments are copied to the
 * thread; typed arrays in results come back without copying.
 */
import type { EngineEnvironment } from '../schemas/manifest';
import { EngineThread } from './thread';
import type * as trainer from './trainer';

type Trainer = typeof trainer;
type Result<K extends keyof Trainer> = Promise<Awaited<ReturnType<Trainer[K]>>>;

export class Engine {
  private constructor(
    private readonly thread: EngineThread,
    /** What this engine runs on, as its thread measured it: recorded in every checkpoint it makes. */
    readonly environment: EngineEnvironment,
  ) {}

  /** Starts a thread, loads the trainer on it and initialises it. */
  static async start(opts: trainer.InitOptions & { intraOpThreads?: number }): Promise<Engine> {
    const { intraOpThreads, ...init } = opts;
    const thread = await EngineThread.start(require.resolve('./trainer'), intraOpThreads ? { intraOpThreads } : {});
    try {
      const { environment } = await thread.call<Awaited<ReturnType<Trainer['init']>>>('init', init);
      return new Engine(thread, environment);
    } catch (err) {
      await thread.terminate();
      throw err;
    }
  }

  sftStep(...args: Parameters<Trainer['sftStep']>) { return this.call('sftStep', ...args); }
  grpoStep(...args: Parameters<Trainer['grpoStep']>) { return this.call('grpoStep', ...args); }
  grpoUpdate(...args: Parameters<Trainer['grpoUpdate']>) { return this.call('grpoUpdate', ...args); }
  logprobs(...args: Parameters<Trainer['logprobs']>) { return this.call('logprobs', ...args); }
  snapshotReference() { return this.call('snapshotReference'); }
  generate(...args: Parameters<Trainer['generate']>) { return this.call('generate', ...args); }
  exportState() { return this.call('exportState'); }
  importState(...args: Parameters<Trainer['importState']>) { return this.call('importState', ...args); }
  setWeights(...args: Parameters<Trainer['setWeights']>) { return this.call('setWeights', ...args); }

  /** Stops the thread; the trainer's state is gone unless exported first. */
  close(): Promise<void> {
    return this.thread.terminate();
  }

  private call<K extends keyof Trainer>(fn: K, ...args: Parameters<Trainer[K]>): Result<K> {
    return this.thread.call(fn, ...args);
  }
}
