import { numel, type NamedTensors, type TensorF32 } from './tensors';

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the raw little-endian tensor data, offsets counted from the end of the header.
 * The engine computes in f32; F16 and BF16 files are widened on load.
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** One tensor's entry in a safetensors header; offsets count from the start of the data. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The tensor table of a safetensors file from its JSON header, each entry checked against its
 * shape and against `dataBytes`, the length of the data after the header (so a file cut short
 * fails here, naming the tensor).
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataBytes: number, file: string): SafetensorsEntry[] {
  const fail = (why: string): never => {
    throw new Error(`${file}: not a valid safetensors file: ${why}`);
  };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    fail(`header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('header is not a JSON object');
  const entries: SafetensorsEntry[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; only F32, F16 and BF16 are supported`);
    if (!isIntArray(shape)) fail(`tensor "${name}" has no valid shape`);
    if (!isIntArray(offsets) || offsets.length !== 2) fail(`tensor "${name}" has no valid data_offsets`);
    const [begin, end] = offsets as number[];
    const expectedBytes = numel(shape as number[]) * BYTES_PER_ELEMENT[dtype as SafetensorsDtype];
    if (begin > end || end > dataBytes) fail(`tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${dataBytes} data bytes (file cut short?)`);
    if (end - begin !== expectedBytes) fail(`tensor "${name}" holds ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${expectedBytes}`);
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], begin, end });
  }
  return entries;
}

/** The header length the first 8 bytes give, checked against the file's size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileBytes: number, file: string): number {
  if (fileBytes < 8) throw new Error(`${file}: not a valid safetensors file: ${fileBytes} bytes is too short for the header length`);
  const headerLen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > fileBytes) throw new Error(`${file}: not a valid safetensors file: header length ${headerLen} runs past the end of the ${fileBytes}-byte file`);
  return headerLen;
}

export function readSafetensors(buf: Uint8Array, file = '<buffer>'): NamedTensors {
  const headerLen = safetensorsHeaderLength(buf, buf.byteLength, file);
  const data = buf.subarray(8 + headerLen);
  const out: NamedTensors = {};
  for (const e of parseSafetensorsHeader(buf.subarray(8, 8 + headerLen), data.byteLength, file)) {
    out[e.name] = { dims: e.shape, data: toF32(data.subarray(e.begin, e.end), e.dtype) };
  }
  return out;
}

/**
 * A file made on demand as a sequence of chunks, its size known up front: how tensor files are
 * written, so that no file (a checkpoint's optimizer state runs to many GiB; Node caps a Buffer
 * at 4 GiB) is ever one Buffer. `chunks()` may be called more than once (a hash pass, then the
 * upload) and gives the same bytes each time.
 */
export interface StreamedFile {
  bytes: number;
  chunks(): Iterable<Uint8Array>;
}

/** Elements per chunk of a tensor file (16 MiB of f32): F16/BF16 convert a chunk at a time, F32 chunks are views. */
const CHUNK_ELEMENTS = 1 << 22;

/** A safetensors file of `tensors` in name order (so equal inputs give equal bytes and equal SHA-256). */
export function safetensorsFile(tensors: NamedTensors, opts: { dtype?: SafetensorsDtype; metadata?: Record<string, string> } = {}): StreamedFile {
  const dtype = opts.dtype ?? 'F32';
  const size = BYTES_PER_ELEMENT[dtype];
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = Object.fromEntries(Object.entries(opts.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (t.data.length !== numel(t.dims)) throw new Error(`tensor "${name}" has ${t.data.length} values but shape [${t.dims}] needs ${numel(t.dims)}`);
    header[name] = { dtype, shape: t.dims, data_offsets: [offset, offset + t.data.length * size] };
    offset += t.data.length * size;
  }
  // Pad the JSON with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  return {
    bytes: 8 + headerBytes.byteLength + offset,
    *chunks() {
      yield prefix;
      yield headerBytes;
      for (const name of names) {
        const data = tensors[name].data;
        // Pieces of a bounded size: a consumer that gathers chunks into upload parts copies a piece, never a whole tensor.
        for (let i = 0; i < data.length; i += CHUNK_ELEMENTS) yield fromF32(data.subarray(i, i + CHUNK_ELEMENTS), dtype);
      }
    },
  };
}

/** The whole file in one Buffer: for small tensor sets (tests, the demo's models). */
export function writeSafetensors(tensors: NamedTensors, opts: { dtype?: SafetensorsDtype; metadata?: Record<string, string> } = {}): Buffer {
  return Buffer.concat([...safetensorsFile(tensors, opts).chunks()]);
}

/** The sharded form of a tensor set: the files by name, and the index naming each tensor's file (absent for one file). */
export interface ShardedSafetensors {
  files: Record<string, StreamedFile>;
  index?: { name: string; json: Buffer };
}

/**
 * Tensors split into files of at most `maxShardBytes` of data each (a tensor larger than that
 * gets a file of its own), in name order, named as Hugging Face does: `<base>.safetensors` when
 * one file is enough, else `<base>-00001-of-00003.safetensors`... with `<base>.safetensors.index.json`.
 */
export function shardSafetensors(
  tensors: NamedTensors, base: string, maxShardBytes: number,
  opts: { dtype?: SafetensorsDtype; metadata?: Record<string, string> } = {},
): ShardedSafetensors {
  const dtype = opts.dtype ?? 'F32';
  const size = BYTES_PER_ELEMENT[dtype];
  const shards: NamedTensors[] = [];
  let current: NamedTensors = {};
  let bytes = 0;
  let total = 0;
  for (const name of Object.keys(tensors).sort()) {
    const b = tensors[name].data.length * size;
    if (bytes > 0 && bytes + b > maxShardBytes) {
      shards.push(current);
      current = {};
      bytes = 0;
    }
    current[name] = tensors[name];
    bytes += b;
    total += b;
  }
  shards.push(current);
  if (shards.length === 1) return { files: { [`${base}.safetensors`]: safetensorsFile(current, opts) } };
  const pad = (i: number) => String(i).padStart(5, '0');
  const files: Record<string, StreamedFile> = {};
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `${base}-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    files[file] = safetensorsFile(shard, opts);
    for (const name of Object.keys(shard)) weightMap[name] = file;
  });
  const json = Buffer.from(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
  return { files, index: { name: `${base}.safetensors.index.json`, json } };
}

/** The shard files an index names, checked to be listed in `available`. */
export function shardsOfIndex(indexJson: Uint8Array, indexName: string, available: readonly string[]): string[] {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(Buffer.from(indexJson).toString('utf8')) as { weight_map?: unknown }).weight_map;
  } catch (err) {
    throw new Error(`${indexName}: not JSON (${(err as Error).message})`);
  }
  if (typeof weightMap !== 'object' || weightMap === null) throw new Error(`${indexName}: weight_map is missing or not an object`);
  const files = [...new Set(Object.values(weightMap as Record<string, unknown>))].map(String).sort();
  for (const f of files) if (!available.includes(f)) throw new Error(`${indexName}: weight_map names ${f}, which is not in the checkpoint (missing shard)`);
  return files;
}

/**
 * Reads a safetensors file from a stream of chunks, filling each tensor's f32 array as its bytes
 * arrive: the memory used beyond the tensors themselves is one chunk (F32; F16/BF16 convert a
 * tensor's bytes once they are all there). Checks the header against `fileBytes`, when known.
 */
export async function readSafetensorsStream(chunks: AsyncIterable<Uint8Array>, file: string, fileBytes?: number): Promise<NamedTensors> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const it = chunks[Symbol.asyncIterator]();
  /** Exactly n bytes from the stream (n small: the header). */
  const take = async (n: number): Promise<Uint8Array> => {
    while (pendingBytes < n) {
      const next = await it.next();
      if (next.done) throw new Error(`${file}: not a valid safetensors file: it ends after ${pendingBytes} bytes of a ${n}-byte read (cut short?)`);
      pending.push(next.value);
      pendingBytes += next.value.byteLength;
    }
    const all = Buffer.concat(pending);
    pending = [all.subarray(n)];
    pendingBytes = all.byteLength - n;
    return all.subarray(0, n);
  };
  const headerLen = safetensorsHeaderLength(await take(8), fileBytes ?? Number.MAX_SAFE_INTEGER, file);
  const headerBytes = await take(headerLen);
  const entries = parseSafetensorsHeader(headerBytes, fileBytes === undefined ? Number.MAX_SAFE_INTEGER : fileBytes - 8 - headerLen, file).sort((a, b) => a.begin - b.begin);
  const out: NamedTensors = {};
  let position = 0; // in the data section
  let rest: Uint8Array | undefined = pendingBytes > 0 ? pending[0] : undefined;
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    if (rest) {
      const r = rest;
      rest = undefined;
      return r;
    }
    const next = await it.next();
    return next.done ? undefined : next.value;
  };
  for (const e of entries) {
    const length = e.end - e.begin;
    const target = new Uint8Array(length);
    let filled = 0;
    while (filled < length || position < e.begin) {
      const chunk = await nextChunk();
      if (!chunk) throw new Error(`${file}: tensor "${e.name}" is cut short (the file ends ${length - filled} bytes early)`);
      // Skip bytes before this tensor (gaps between tensors), copy what belongs to it, keep the rest.
      const skip = Math.min(chunk.byteLength, Math.max(0, e.begin - position));
      position += skip;
      const use = Math.min(chunk.byteLength - skip, length - filled);
      target.set(chunk.subarray(skip, skip + use), filled);
      filled += use;
      position += use;
      if (skip + use < chunk.byteLength) rest = chunk.subarray(skip + use);
    }
    out[e.name] = { dims: e.shape, data: e.dtype === 'F32' ? new Float32Array(target.buffer) : toF32(target, e.dtype) };
  }
  // Drain: the store checks the whole object's hash only once it is read to the end.
  for (let c = await nextChunk(); c; c = await nextChunk());
  return out;
}

/** Refuses tensors whose names or shapes differ from `expected`, listing every difference. */
export function checkShapes(tensors: NamedTensors, expected: Record<string, number[]>, file: string): void {
  const problems: string[] = [];
  for (const [name, dims] of Object.entries(expected)) {
    const t = tensors[name];
    if (!t) problems.push(`missing tensor "${name}" (expected shape [${dims}])`);
    else if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      problems.push(`tensor "${name}" has shape [${t.dims}], expected [${dims}]`);
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!(name in expected)) problems.push(`unexpected tensor "${name}" (shape [${tensors[name].dims}])`);
  }
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}

// Byte copies below assume a little-endian host, as every platform onnxruntime-node ships for is.
export function toF32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  // Copy into a fresh, aligned buffer: data inside the file need not be 4-byte aligned. (Not
  // bytes.slice(): on a Node Buffer that is a view of the same memory, not a copy.)
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (dtype === 'F32') return new Float32Array(copy.buffer);
  const halves = new Uint16Array(copy.buffer);
  const out = new Float32Array(halves.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  } else {
    for (let i = 0; i < halves.length; i++) out[i] = f16ToF32(halves[i]);
  }
  return out;
}

function fromF32(data: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bits = new Uint32Array(Float32Array.from(data).buffer);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = dtype === 'BF16' ? f32BitsToBf16(bits[i]) : f32BitsToF16(bits[i]);
  return new Uint8Array(out.buffer);
}

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Rounds to nearest, ties to even; NaN stays NaN (a quiet one). */
function f32BitsToBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Rounds to nearest, ties to even; overflow becomes Infinity, underflow a subnormal or zero. */
function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal: shift the mantissa (with its implicit 1) into place and round.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++;
  return sign | r;
}
