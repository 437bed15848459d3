import { maskedCrc } from '../../storage/tfevents';

/** One event of a TensorBoard event file, as TensorBoard's reader sees it. */
export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: Record<string, number>;
}

/** A protocol-buffer reader for the few fields events carry, written apart from the writer. */
function fields(buf: Buffer): { field: number; wire: number; value: Buffer | number | bigint }[] {
  const out: { field: number; wire: number; value: Buffer | number | bigint }[] = [];
  let i = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) (out.push({ field, wire, value: buf.readDoubleLE(i) }), (i += 8));
    else if (wire === 5) (out.push({ field, wire, value: buf.readFloatLE(i) }), (i += 4));
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`wire type ${wire} at ${i}`);
  }
  return out;
}

/** Reads an event file record by record, checking both CRCs of each as TensorBoard does. */
export function readEventFile(file: Buffer): ReadEvent[] {
  const events: ReadEvent[] = [];
  for (let at = 0; at < file.length; ) {
    const length = Number(file.readBigUInt64LE(at));
    if (file.readUInt32LE(at + 8) !== maskedCrc(file.subarray(at, at + 8))) throw new Error(`bad length CRC at ${at}`);
    const data = file.subarray(at + 12, at + 12 + length);
    if (file.readUInt32LE(at + 12 + length) !== maskedCrc(data)) throw new Error(`bad data CRC at ${at}`);
    at += 16 + length;
    const event: ReadEvent = { wallTime: 0, step: 0, values: {} };
    for (const f of fields(data)) {
      if (f.field === 1) event.wallTime = f.value as number;
      if (f.field === 2) event.step = Number(f.value);
      if (f.field === 3) event.fileVersion = (f.value as Buffer).toString('utf8');
      if (f.field === 5) {
        for (const v of fields(f.value as Buffer)) {
          const value = fields(v.value as Buffer);
          event.values[(value.find((x) => x.field === 1)!.value as Buffer).toString('utf8')] = value.find((x) => x.field === 2)!.value as number;
        }
      }
    }
    events.push(event);
  }
  return events;
}
