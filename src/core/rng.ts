import seedrandom from 'seedrandom';

/**
 * Seeded pseudo-random numbers for everything aekit randomises on the JS side (shuffles, splits,
 * noise seeds, initialiser seeds). Each consumer derives its own stream from (run seed, purpose,
 * index) so that, e.g., resuming at epoch 3 reproduces epoch 3's shuffle without replaying 0-2.
 */
export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(seed: number | string) {
    this.prng = seedrandom(String(seed));
  }

  /** A derived, independent stream: same (seed, ...path) always gives the same stream. */
  static derive(seed: number, ...path: (string | number)[]): Rng {
    return new Rng([seed, ...path].join('/'));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return Math.floor(this.prng() * maxExclusive);
  }

  /** A 31-bit integer, for seeding tfjs ops and initialisers. */
  seed(): number {
    return this.int(0x7fffffff);
  }

  /** Standard normal sample (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** Fill a Float32Array with N(0, 1) samples. */
  normalArray(length: number): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.normal();
    return out;
  }
}
