// Small seeded PRNG for data shuffling/splitting, with get/set state for checkpoint resume.
//
// Generator: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
// 128-bit state held as four uint32 words, period 2^128 - 1. Seeding expands a
// (safe-integer) seed into the four words with the murmur3 32-bit finalizer so that
// nearby seeds give unrelated streams and the state is never all zero.

/** murmur3 fmix32: a bijective 32-bit avalanche mix. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkSeedPart(p: number): void {
  if (!Number.isSafeInteger(p)) throw new Error(`rng: seed parts must be safe integers, got ${p}`);
}

/** Hashes integers (seed, epoch, index, ...) into one uint32. Order-sensitive. */
export function mixSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const p of parts) {
    checkSeedPart(p);
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = fmix32((h ^ fmix32(lo + 0x9e3779b9)) + 0x7f4a7c15);
    h = fmix32((h ^ fmix32(hi + 0x3c6ef372)) + 0x165667b1);
  }
  return h;
}

export type RngState = [number, number, number, number];

export class Rng {
  private s0 = 0; private s1 = 0; private s2 = 0; private s3 = 0;

  /** Seeds from any safe integer (same seed => same stream). */
  constructor(seed = 0) {
    checkSeedPart(seed);
    const h = mixSeed(seed);
    this.s0 = fmix32(h + 0x9e3779b9);
    this.s1 = fmix32(h + 0x3c6ef372);
    this.s2 = fmix32(h + 0xdaa66d2b);
    this.s3 = fmix32(h + 0x78dde6e4);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  static fromState(state: readonly number[]): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new Error(`rng: state must be 4 uint32 words, got ${JSON.stringify(state)}`);
    }
    if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) throw new Error('rng: state must not be all zero');
    [this.s0, this.s1, this.s2, this.s3] = state as RngState;
  }

  /** Next uniform uint32. */
  nextU32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A standard normal draw: Box-Muller over two uniforms (the attacks' random starts, adversarial's noise). */
  normal(): number {
    const u = 1 - this.float();   // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Uniform integer in [0, n), n a positive safe integer (bias <= n / 2^53). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** In-place Fisher-Yates shuffle; returns its argument. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
