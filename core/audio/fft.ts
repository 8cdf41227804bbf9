/**
 * Magnitude spectrum of one windowed frame, into buffers allocated once: a real FFT built on an
 * iterative radix-2 complex FFT of half the size, with precomputed twiddles and bit-reversal table.
 * It runs every hop (86 times a second at 44.1 kHz, hop 512), so it must not allocate. Output follows Meyda's `amplitudeSpectrum` convention: |X[k]| of
 * the Hann-windowed frame, unscaled, for k = 0 … size/2 − 1.
 */
export class MagnitudeSpectrum {
  readonly size: number;
  /** |X[k]|, k < size/2, rewritten by each `compute`. */
  readonly magnitude: Float32Array;
  private readonly window: Float32Array;
  private readonly half: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** cos/−sin of 2πk/size, k < size/2: the half-size FFT uses every other entry, the real split all. */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;

  constructor(window: Float32Array) {
    const n = window.length;
    if (n < 4 || (n & (n - 1)) !== 0) throw new RangeError(`FFT size must be a power of two ≥ 4, got ${n}`);
    const m = n / 2;
    this.size = n;
    this.half = m;
    this.window = window;
    this.magnitude = new Float32Array(m);
    this.re = new Float64Array(m);
    this.im = new Float64Array(m);
    this.cos = new Float64Array(m);
    this.sin = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    this.reversed = new Uint32Array(m);
    const bits = Math.log2(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reversed[i] = r;
    }
  }

  /**
   * Windows `frame` (length `size`), transforms it and fills `magnitude`. A real signal of length N is
   * packed as N/2 complex values (even samples real, odd imaginary), transformed at half size, then
   * split into the spectra of the even and odd samples and recombined: half the work of a complex FFT.
   */
  compute(frame: Float32Array): Float32Array {
    const { half: m, re, im, window, reversed, cos, sin } = this;
    for (let i = 0; i < m; i++) {
      const j = reversed[i]!;
      re[j] = frame[2 * i]! * window[2 * i]!;
      im[j] = frame[2 * i + 1]! * window[2 * i + 1]!;
    }
    for (let len = 2; len <= m; len <<= 1) {
      const h = len >> 1;
      const step = (2 * m) / len; // twiddles of a size-`len` FFT are every step-th entry of the size-N table
      for (let start = 0; start < m; start += len) {
        for (let k = 0; k < h; k++) {
          const wr = cos[k * step]!;
          const wi = sin[k * step]!;
          const a = start + k;
          const b = a + h;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
      }
    }
    // X[k] = E[k] + W^k·O[k], with E[k] = (Z[k] + conj Z[m−k])/2 and O[k] = (Z[k] − conj Z[m−k])/2i.
    const mag = this.magnitude;
    for (let k = 0; k < m; k++) {
      const ar = re[k]!;
      const ai = im[k]!;
      const br = re[(m - k) % m]!;
      const bi = im[(m - k) % m]!;
      const er = (ar + br) / 2;
      const ei = (ai - bi) / 2;
      const or = (ai + bi) / 2;
      const oi = (br - ar) / 2;
      const xr = er + cos[k]! * or - sin[k]! * oi;
      const xi = ei + cos[k]! * oi + sin[k]! * or;
      mag[k] = Math.sqrt(xr * xr + xi * xi);
    }
    return mag;
  }
}
