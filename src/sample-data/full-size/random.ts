/**
 * A small seeded pseudo-random generator, written here rather than taken from npm: the generated
 * data set must be the same on every run, every machine and every engine for the same seed (tests
 * pin a checksum of it), so the algorithm must never change under us with a dependency update, and
 * `Math.random` cannot be seeded at all.
 *
 * mulberry32 (Tommy Ettinger, public domain): 32 bits of state, one multiply-xorshift round per
 * number, period 2^32. Plenty for test data; not for anything secret.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A generator for one item (one employee) of a seeded set: independent of how many numbers the others drew. */
  static forItem(seed: number, item: number): Random {
    return new Random(mix32(seed ^ Math.imul(item, 0x9e3779b9)));
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One of `items`, each as likely as its weight. */
  weighted<T>(items: readonly T[], weights: readonly number[], totalWeight: number): T {
    let ticket = this.next() * totalWeight;
    for (let index = 0; index < items.length; index++) {
      ticket -= weights[index]!;
      if (ticket < 0) return items[index]!;
    }
    return items[items.length - 1]!;
  }
}

/** murmur3's 32-bit finaliser: spreads a seed's bits, so that neighbouring items get unrelated streams. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
