/** Seeded PRNG (mulberry32): the same seed gives the same tree on every machine. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  const pick = (items) => items[Math.floor(next() * items.length)];
  /** Index skewed towards 0, like word frequencies in real code. */
  const zipf = (count) => Math.floor(count * Math.pow(next(), 2.2));
  /** Log-normal sample: small files dominate, a few are large. */
  const logNormal = (median, sigma) => {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const gaussian = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * gaussian);
  };
  /** Fills a buffer with incompressible bytes, fast (32 bits per step). */
  const fillBytes = (buffer) => {
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = next() * 4294967296;
    for (let i = words.length * 4; i < buffer.length; i++) buffer[i] = next() * 256;
  };
  return { next, int, pick, zipf, logNormal, fillBytes };
}
