// Entry point of an EngineThread (see thread.ts): loads the engine module and answers calls.
import { parentPort, workerData } from 'node:worker_threads';
import type { CallReply, CallRequest, EngineThreadData, SerializedError } from './thread';

const { modulePath } = (workerData as { engineThread: EngineThreadData }).engineThread;
const port = parentPort!;
const engineModule = require(modulePath) as Record<string, unknown>;

// One call at a time, in arrival order, so module state is never seen half-updated by another call.
let queue = Promise.resolve();
port.on('message', (req: CallRequest) => {
  queue = queue.then(() => answer(req));
});
port.postMessage('ready');

async function answer({ id, fn, args }: CallRequest): Promise<void> {
  try {
    const f = engineModule[fn];
    if (typeof f !== 'function') throw new TypeError(`engine module ${modulePath} exports no function "${fn}"`);
    const value: unknown = await f(...args);
    try {
      port.postMessage({ id, ok: true, value } satisfies CallReply, transferableBuffers(value));
    } catch (err) {
      throw new Error(`${fn}: its result could not be sent: ${(err as Error).message} (an engine function must return copies of arrays it keeps)`, { cause: err });
    }
  } catch (err) {
    port.postMessage({ id, ok: false, error: serializeError(err) } satisfies CallReply);
  }
}

/**
 * The ArrayBuffers of typed arrays in `value` that can be handed over instead of copied: only
 * those a view spans completely, because a partial view (a slice of Node's Buffer pool, say)
 * shares its buffer with data the result does not own. Empty buffers are left to the clone:
 * nothing is saved by moving them, and a buffer handed over by an earlier call is empty
 * (detached); in a transfer list postMessage would drop the whole message without a word,
 * while the clone throws.
 */
function transferableBuffers(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      const { buffer } = v;
      if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && v.byteOffset === 0 && v.byteLength === buffer.byteLength) found.add(buffer);
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) visit(child);
  };
  visit(value);
  return [...found];
}

function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message, stack: err.stack };
  const nonRetryable = (err as { nonRetryable?: unknown }).nonRetryable;
  if (typeof nonRetryable === 'boolean') out.nonRetryable = nonRetryable;
  return out;
}
