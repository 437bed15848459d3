/**
 * onnxruntime's optimised form of each graph, kept on disk and keyed by everything that produced
 * it, so an engine that builds a graph some earlier engine (any process on this machine) already
 * optimised loads that form with graph optimisation off: SmolLM2's SFT-step session took 7.8 s to
 * create, 1.2 s from its cache entry (3.4-3.9 s to create since the idle optimisers are off,
 * device.ts), and every trainer start and rollout engine paid it.
 *
 * An entry is one file, `<key>.onnx`: a header line, the SHA-256 of the model that follows, then
 * the model. It is written under another name and renamed into place, so a reader sees a whole
 * entry or none; one whose hash does not match (a disk fault, a hand-edited file) is deleted and
 * rebuilt, never loaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InferenceSession } from 'onnxruntime-node';

const HEADER = Buffer.from('r1 onnxruntime-optimised model v1\n');
const HASH_BYTES = 32;

/** The cache folder: R1_SESSION_CACHE, or one in the system's temporary folder. */
export function sessionCacheDir(): string {
  return process.env.R1_SESSION_CACHE || path.join(os.tmpdir(), 'r1-session-cache');
}

export interface CachedSession {
  session: InferenceSession;
  /** True when the session came from a cache entry, false when it was optimised now (and the entry written). */
  cached: boolean;
}

/**
 * A session for `model` with `options`, from the cache in `dir` when an entry for them exists.
 * `runtime` names the onnxruntime build, part of the key with the machine's CPU, since an
 * optimised model holds kernels chosen for both.
 */
export async function optimisedSession(
  model: Uint8Array, options: InferenceSession.SessionOptions, dir: string, runtime: string,
): Promise<CachedSession> {
  const file = path.join(dir, `${cacheKey(model, options, runtime)}.onnx`);
  let entry: Buffer | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true });
    entry = readEntry(file);
  } catch (err) {
    throw new Error(`the session cache folder ${dir} cannot be used (R1_SESSION_CACHE names another): ${(err as Error).message}`, { cause: err });
  }
  if (entry) return { session: await InferenceSession.create(entry, { ...options, graphOptimizationLevel: 'disabled' }), cached: true };

  // Unique per writer: engines on several threads or processes may build the same graph at once.
  const scratch = `${file}.${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const session = await InferenceSession.create(model, {
      ...options,
      optimizedModelFilePath: `${scratch}.ort`,
      // Saving warns on every write that the model may hold kernels for this CPU only: the key says so.
      logSeverityLevel: 3,
    });
    const optimised = fs.readFileSync(`${scratch}.ort`);
    fs.writeFileSync(scratch, Buffer.concat([HEADER, sha256(optimised), optimised]));
    fs.renameSync(scratch, file);
    return { session, cached: false };
  } finally {
    fs.rmSync(`${scratch}.ort`, { force: true });
    fs.rmSync(scratch, { force: true });
  }
}

function cacheKey(model: Uint8Array, options: InferenceSession.SessionOptions, runtime: string): string {
  const h = createHash('sha256');
  h.update(HEADER).update(runtime).update(process.arch).update(os.cpus()[0]?.model ?? 'unknown CPU');
  h.update(JSON.stringify(options)).update(model);
  return h.digest('hex');
}

/** The model in a whole, intact entry; undefined (and the file deleted, if any) otherwise. */
function readEntry(file: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const model = bytes.subarray(HEADER.length + HASH_BYTES);
  const intact =
    bytes.length > HEADER.length + HASH_BYTES &&
    bytes.subarray(0, HEADER.length).equals(HEADER) &&
    bytes.subarray(HEADER.length, HEADER.length + HASH_BYTES).equals(sha256(model));
  if (intact) return model;
  fs.rmSync(file, { force: true });
  return undefined;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
