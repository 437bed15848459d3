import { readSync } from 'node:fs';

/** `length` bytes of an open file from `position`; a file that ends first is an error naming `path`. */
export function readAt(fd: number, position: number, length: number, path: string): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new Error(`${path}: cut short at byte ${position + done}`);
    done += n;
  }
  return out;
}
