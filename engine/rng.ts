import { rngStateSchema, type RngState } from '../schemas/rng';

export type { RngState };

/**
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32. Chosen because its whole state is
 * four uint32s that fit in JSON, which is what makes resumed training reproducible bit for bit.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng seed must be a safe integer, got ${seed}`);
    // Mix the high bits in too, so seeds that differ only above 2^32 still give different streams.
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      this.s[i] = z ^ (z >>> 15);
    }
    // xoshiro's one forbidden state; splitmix32 practically never produces it, but be certain.
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  getState(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s[0], this.s[1], this.s[2], this.s[3]] };
  }

  static fromState(state: RngState): Rng {
    const { s } = rngStateSchema.parse(state);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new RangeError('Rng state must not be all zeros');
    const rng = new Rng(0);
    rng.s.set(s);
    return rng;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
