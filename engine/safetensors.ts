import { numel, type NamedTensors, type TensorF32 } from './tensors';

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the raw little-endian tensor data, offsets counted from the end of the header.
 * The engine computes in f32; F16 and BF16 files are widened on load.
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function readSafetensors(buf: Uint8Array, file = '<buffer>'): NamedTensors {
  const fail = (why: string): never => {
    throw new Error(`${file}: not a valid safetensors file: ${why}`);
  };
  if (buf.byteLength < 8) fail(`${buf.byteLength} bytes is too short for the header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > buf.byteLength) fail(`header length ${headerLen} runs past the end of the ${buf.byteLength}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(`header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('header is not a JSON object');

  const data = buf.subarray(8 + headerLen);
  const out: NamedTensors = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; only F32, F16 and BF16 are supported`);
    if (!isIntArray(shape)) fail(`tensor "${name}" has no valid shape`);
    if (!isIntArray(offsets) || offsets.length !== 2) fail(`tensor "${name}" has no valid data_offsets`);
    const [begin, end] = offsets as number[];
    const expectedBytes = numel(shape as number[]) * BYTES_PER_ELEMENT[dtype as SafetensorsDtype];
    if (begin > end || end > data.byteLength) fail(`tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${data.byteLength} data bytes`);
    if (end - begin !== expectedBytes) fail(`tensor "${name}" holds ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${expectedBytes}`);
    out[name] = { dims: [...(shape as number[])], data: toF32(data.subarray(begin, end), dtype as SafetensorsDtype) };
  }
  return out;
}

/** Serializes tensors in name order (so equal inputs give equal bytes and equal SHA-256). */
export function writeSafetensors(tensors: NamedTensors, opts: { dtype?: SafetensorsDtype; metadata?: Record<string, string> } = {}): Buffer {
  const dtype = opts.dtype ?? 'F32';
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = Object.fromEntries(Object.entries(opts.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (t.data.length !== numel(t.dims)) throw new Error(`tensor "${name}" has ${t.data.length} values but shape [${t.dims}] needs ${numel(t.dims)}`);
    const bytes = fromF32(t.data, dtype);
    header[name] = { dtype, shape: t.dims, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  // Pad the JSON with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  return Buffer.concat([prefix, headerBytes, ...chunks]);
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
function toF32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
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

function f16ToF32(h: number): number {
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
