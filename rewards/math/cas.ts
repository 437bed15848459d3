import * as path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/**
 * Synchronous, deadline-bounded calls into the CAS thread (cas-worker.ts).
 *
 * Why a thread and a blocking wait: the Compute Engine can run away inside a single call (exact
 * powers like `9^{9^{9}}`, `100000!`), and nothing interrupts a synchronous call from inside. So
 * the comparison runs on a worker thread while this thread blocks on `Atomics.wait` with the
 * time left; if the deadline passes, the worker is terminated (with its memory capped, a runaway
 * cannot take the process down either) and a fresh one starts on the next call. Callers keep a
 * plain synchronous API.
 *
 * The thread's start-up (loading the Compute Engine, a few hundred ms) is not charged to any
 * comparison's deadline; it is bounded separately.
 */
export interface CasRequest {
  id: number;
  pred: string;
  gold: string;
  relTol: number;
  absTol: number;
}

export interface CasReply {
  id: number;
  equal: boolean;
  reason: string;
}

const STARTUP_LIMIT_MS = 20_000;
const WORKER_LIMITS = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 32, stackSizeMb: 8 };

class CasThread {
  private nextId = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  /** Starts the thread and waits (blocking) until the Compute Engine is loaded. */
  static start(): CasThread {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(path.join(__dirname, 'cas-worker.js'), {
      workerData: { port: port2, signal },
      transferList: [port2],
      resourceLimits: WORKER_LIMITS,
    });
    worker.unref(); // a pending CAS thread must never keep the process alive
    worker.on('error', () => undefined); // a crash shows up as a timeout; it must not throw here
    const thread = new CasThread(worker, port1, signal);
    if (thread.await(STARTUP_LIMIT_MS) === null) {
      thread.stop();
      throw new Error(`the CAS thread did not start within ${STARTUP_LIMIT_MS} ms`);
    }
    return thread;
  }

  /** The CAS verdict, or null when the deadline passed first (the thread is then dead). */
  compare(request: Omit<CasRequest, 'id'>, timeLeftMs: number): CasReply | null {
    const id = this.nextId++;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ id, ...request } satisfies CasRequest);
    const reply = this.await(timeLeftMs);
    if (reply === null || reply.id !== id) {
      this.stop();
      return null;
    }
    return reply;
  }

  stop(): void {
    this.port.close();
    this.worker.terminate().catch(() => undefined);
  }

  private await(timeoutMs: number): CasReply | null {
    if (Atomics.wait(this.signal, 0, 0, Math.max(0, timeoutMs)) === 'timed-out') return null;
    Atomics.store(this.signal, 0, 0);
    return (receiveMessageOnPort(this.port)?.message as CasReply | undefined) ?? null;
  }
}

let thread: CasThread | null = null;

/** Compares two single values in the CAS; `{ equal: false, reason: 'timeout' }` past the deadline. */
export function casCompare(request: Omit<CasRequest, 'id'>, deadline: number): { equal: boolean; reason: string } {
  const timeLeft = deadline - Date.now();
  if (timeLeft <= 0) return { equal: false, reason: 'timeout' };
  thread ??= CasThread.start();
  const reply = thread.compare(request, timeLeft);
  if (reply === null) {
    thread = null;
    return { equal: false, reason: 'timeout' };
  }
  return { equal: reply.equal, reason: reply.reason };
}

/** Starts the CAS thread now, so that the first comparison does not pay for loading it. */
export function warmUpCas(): void {
  thread ??= CasThread.start();
}
