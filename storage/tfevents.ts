/**
 * TensorBoard event files: what `tensorboard --logdir` reads. A file is a sequence of TFRecords
 * (length, masked CRC-32C of the length, data, masked CRC-32C of the data), each an `Event`
 * protocol buffer: the first names the format version, the others carry one step's scalars as a
 * `Summary`. Only the fields scalars need are written (tensorflow/core/util/event.proto,
 * tensorflow/core/framework/summary.proto).
 */

/** One step's scalars, by tag. */
export interface ScalarPoint {
  step: number;
  /** Seconds since the epoch. */
  wallTime: number;
  values: Record<string, number>;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), the checksum TFRecords use. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking of a CRC stored beside the data it covers. */
export function maskedCrc(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const lengthDelimited = (field: number, body: Uint8Array) => Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(body.length)]), body]);

function scalarValue(tag: string, value: number): Buffer {
  const simple = Buffer.alloc(5);
  simple[0] = (2 << 3) | 5; // simple_value: float, fixed32
  simple.writeFloatLE(value, 1);
  return Buffer.concat([lengthDelimited(1, Buffer.from(tag, 'utf8')), simple]);
}

function event(wallTime: number, step: number, rest: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = (1 << 3) | 1; // wall_time: double, fixed64
  head.writeDoubleLE(wallTime, 1);
  return Buffer.concat([head, Buffer.from([2 << 3, ...varint(step)]), rest]);
}

function record(data: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc(data), 0);
  return Buffer.concat([header, data, footer]);
}

/** An event file holding `points`, one event per step; values that are not finite are left out. */
export function encodeEventFile(points: readonly ScalarPoint[]): Buffer {
  const first = points[0]?.wallTime ?? Date.now() / 1000;
  const records = [record(event(first, 0, lengthDelimited(3, Buffer.from('brain.Event:2'))))];
  for (const p of points) {
    const values = Object.entries(p.values).filter(([, v]) => Number.isFinite(v));
    const summary = Buffer.concat(values.map(([tag, v]) => lengthDelimited(1, scalarValue(tag, v))));
    records.push(record(event(p.wallTime, p.step, lengthDelimited(5, summary))));
  }
  return Buffer.concat(records);
}
