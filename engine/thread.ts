import * as path from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

/**
 * Runs an engine module on its own thread. onnxruntime's `session.run()` is a synchronous native
 * call that holds its thread for as long as the compute takes; on the Temporal worker's thread
 * that would starve heartbeats, so all engine work goes through an EngineThread.
 *
 * The module (a compiled .js file) is `require()`d once on the thread; `call(fn, ...args)` runs
 * its exported function `fn` there and resolves with what it returns. Module-level state (sessions,
 * weights, optimizer moments) lives on between calls. Calls run one at a time in the order made.
 *
 * Data crossing the boundary:
 * - arguments are copied; the caller keeps its arrays. Typed arrays are copied once here and
 *   their copies handed over, not structured-cloned: a clone serialises into a buffer of its own
 *   and is then rebuilt on the engine thread, so an engine given its weights briefly held them
 *   three times (SmolLM2's 540 MB: 1.6 GB at engine start), and now twice;
 * - typed arrays in a result are transferred, not copied, when each one spans its whole
 *   ArrayBuffer. The buffer is then detached on the engine thread: a function must not return
 *   arrays it keeps using (return `weights.slice()`, not the module's own weights).
 * - a thrown error comes back as an Error with the same name, message and stack, plus
 *   `nonRetryable` when the thrown error had one.
 */
export class EngineThread {
  private nextId = 0;
  private readonly pending = new Map<number, PendingCall>();
  /** Set once the thread can no longer answer; every later call fails with it. */
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly modulePath: string,
  ) {
    worker.on('message', (reply: CallReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(new Error(`engine thread (${modulePath}) crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.fail(new Error(`engine thread (${modulePath}) exited unexpectedly with code ${code}`)));
  }

  /** Starts a thread and loads `modulePath` (an absolute path to a .js module) on it. */
  static start(modulePath: string, opts: EngineThreadOptions = {}): Promise<EngineThread> {
    if (!path.isAbsolute(modulePath)) {
      return Promise.reject(new TypeError(`EngineThread.start needs an absolute module path (e.g. require.resolve('./module')), got ${modulePath}`));
    }
    const data: EngineThreadData = { modulePath, options: opts };
    const worker = new Worker(path.join(__dirname, 'thread-worker.js'), { workerData: { engineThread: data } });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`engine thread could not load ${modulePath}: ${err.message}`, { cause: err }));
      const onExit = (code: number) => reject(new Error(`engine thread exited with code ${code} while loading ${modulePath}`));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', () => {
        // Remove only these: Worker keeps internal listeners of its own.
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(new EngineThread(worker, modulePath));
      });
    });
  }

  call<T>(fn: string, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        const transfer: ArrayBuffer[] = [];
        this.worker.postMessage({ id, fn, args: copyArrays(args, transfer, new Map()) as unknown[] } satisfies CallRequest, transfer);
      } catch (err) {
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  /** Stops the thread; calls still pending are rejected. */
  async terminate(): Promise<void> {
    this.fail(new Error(`engine thread (${this.modulePath}) was terminated`));
    await this.worker.terminate();
  }

  private settle(reply: CallReply): void {
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(reviveError(reply.error));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }
}

export interface EngineThreadOptions {
  /** onnxruntime intra-op threads for sessions on this thread; read it with `engineThreadOptions()`. */
  intraOpThreads?: number;
}

/** Inside an engine thread's module: the options the thread was started with (empty elsewhere). */
export function engineThreadOptions(): EngineThreadOptions {
  if (isMainThread) return {};
  return (workerData as { engineThread?: EngineThreadData } | undefined)?.engineThread?.options ?? {};
}

/** An error as it crosses from the engine thread. */
export interface EngineThreadError extends Error {
  nonRetryable?: boolean;
}

// The wire protocol between this file and thread-worker.ts.
export interface EngineThreadData {
  modulePath: string;
  options: EngineThreadOptions;
}
export interface CallRequest {
  id: number;
  fn: string;
  args: unknown[];
}
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  nonRetryable?: boolean;
}
export type CallReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * `value` with each typed array in it (in plain objects and arrays) replaced by a copy on a
 * buffer of its own, whose buffer is added to `transfer`; everything else is left to the
 * structured clone. An array met twice is copied once.
 */
function copyArrays(value: unknown, transfer: ArrayBuffer[], copies: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (copies.has(value)) return copies.get(value);
  if (value instanceof Float32Array || value instanceof Int32Array || value instanceof Uint8Array || value instanceof Float64Array) {
    // A Buffer is a Uint8Array, often a view into Node's shared pool: copied as a plain Uint8Array.
    const own = value instanceof Buffer ? new Uint8Array(value) : value.slice();
    transfer.push(own.buffer as ArrayBuffer);
    copies.set(value, own);
    return own;
  }
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return value;
  // Registered before its members are visited, so a cycle ends at the copy.
  const copy = (Array.isArray(value) ? [] : {}) as Record<string, unknown>;
  copies.set(value, copy);
  for (const [k, v] of Object.entries(value)) copy[k] = copyArrays(v, transfer, copies);
  return copy;
}

function reviveError(e: SerializedError): EngineThreadError {
  const err: EngineThreadError = new Error(e.message);
  err.name = e.name;
  if (e.stack !== undefined) err.stack = e.stack;
  if (e.nonRetryable !== undefined) err.nonRetryable = e.nonRetryable;
  return err;
}
