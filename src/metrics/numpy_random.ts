// Bit-exact reproduction of NumPy's legacy `numpy.random.RandomState` for the few draws csgnet needs
// (numpy/random/_mt19937.pyx, src/mt19937/mt19937.c, src/legacy/legacy-distributions.c):
//
// - seeding with an integer: `RandomState(seed)` -> `_legacy_seeding` -> `mt19937_seed(state, seed)`,
//   i.e. Matsumoto & Nishimura's `init_genrand` (Knuth's multiplier 1812433253), *not* init_by_array;
// - `random_sample()`: 53-bit double from two 32-bit outputs, (a >> 5) * 2^26 + (b >> 6), divided by 2^53;
// - `standard_normal()` / `normal()`: the legacy polar Box-Muller `legacy_gauss`, which draws pairs and
//   caches the second value (`has_gauss`), so consecutive calls and array draws share one stream;
// - `permutation(n)` / `choice(n, size, replace=false)`: legacy Fisher-Yates shuffle with
//   `random_interval` (mask-and-reject on 32-bit draws).
//
// `legacy_gauss` calls the C library's `log`. V8's Math.log differs from glibc's in the last bit for a few
// percent of arguments (and glibc's is not correctly rounded either), so `glibcLog` below replays glibc's
// algorithm (the ARM optimized-routines `log` shipped since glibc 2.28, in its `__log_fma` build, which
// every x86-64 CPU with FMA runs) operation by operation, with an exact software fused multiply-add. The
// normals are then bit-identical to NumPy's on such machines (checked against NumPy in the tests).

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;
  private hasGauss = false;
  private gauss = 0;
  private readonly point = new Float64Array(3); // scratch for polarPair

  constructor(seed: number = 0) {
    this.seed(seed);
  }

  /** Same as `np.random.RandomState(seed)` for an integer seed in [0, 2^32 - 1]. */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`RandomState: seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    }
    let s = seed >>> 0;
    const key = this.key;
    for (let i = 0; i < N; i++) {
      key[i] = s;
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + i + 1) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.gauss = 0;
  }

  private generate(): void {
    const key = this.key;
    let y: number;
    let i = 0;
    for (; i < N - M; i++) {
      y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; i < N - 1; i++) {
      y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    y = (key[N - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
    key[N - 1] = key[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }

  /** One tempered 32-bit MT19937 output, as an unsigned number. */
  nextUint32(): number {
    if (this.pos === N) this.generate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `RandomState.random_sample()`: a double in [0, 1) with 53 random bits. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** `RandomState.standard_normal()` (legacy polar method with the cached second value). */
  standardNormal(): number {
    if (this.hasGauss) {
      const t = this.gauss;
      this.hasGauss = false;
      this.gauss = 0;
      return t;
    }
    const p = this.point;
    this.polarPair(p);
    const [x1, x2, r2] = p as unknown as [number, number, number];
    const f = Math.sqrt((-2.0 * glibcLog(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /**
   * One accepted point of the polar method, drawn exactly as `legacy_gauss` draws it when no value is
   * cached: writes [x1, x2, r2] to `out`. The two normals are f * x2 (returned first) and f * x1 (cached),
   * f = sqrt(-2 log(r2) / r2), so a caller can skip the logarithm for values it does not need. Only for
   * streams made of pairs from the start: it neither reads nor sets the cached value.
   */
  polarPair(out: Float64Array): void {
    let x1: number, x2: number, r2: number;
    do {
      x1 = 2.0 * this.randomSample() - 1.0;
      x2 = 2.0 * this.randomSample() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    out[0] = x1;
    out[1] = x2;
    out[2] = r2;
  }

  /** `RandomState.standard_normal(size)`: `size` values in C (row-major) order. */
  standardNormalArray(size: number): Float64Array {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.standardNormal();
    return out;
  }

  /** `RandomState.normal(loc, scale, size)` (legacy: loc + scale * gauss, element by element). */
  normal(loc: number, scale: number, size: number): Float64Array {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = loc + scale * this.standardNormal();
    return out;
  }

  /** `RandomState.random_sample(size)`. */
  randomSampleArray(size: number): Float64Array {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.randomSample();
    return out;
  }

  /** NumPy's `random_interval(max)`: uniform integer in [0, max], max < 2^32, by masking and rejection. */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('randomInterval: max must be < 2**32');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    while ((v = (this.nextUint32() & mask) >>> 0) > max);
    return v;
  }

  /** In-place legacy `RandomState.shuffle` of a 1-D array. */
  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T {
    for (let i = arr.length - 1; i >= 1; i--) {
      const j = this.randomInterval(i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** `RandomState.permutation(n)`. */
  permutation(n: number): Int32Array {
    const arr = new Int32Array(n);
    for (let i = 0; i < n; i++) arr[i] = i;
    return this.shuffle(arr);
  }

  /** `RandomState.choice(n, size, replace=False)` (= `permutation(n)[:size]`). */
  choiceWithoutReplacement(n: number, size: number): Int32Array {
    if (size > n) throw new RangeError(`choice: cannot take a larger sample (${size}) than population (${n}) without replacement`);
    return this.permutation(n).slice(0, size);
  }
}

// ---------------------------------------------------------------------------------------------------------
// glibc's log (sysdeps/ieee754/dbl-64/e_log.c + e_log_data.c, from ARM optimized-routines; N = 128 table,
// degree-6 polynomial; a separate degree-12 polynomial near 1), replayed in the operation order of its
// x86-64 `__log_fma` variant, with `fma` emulated exactly.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Parses a C hexadecimal floating literal such as `-0x1.7cc7f79e69000p-2` exactly. */
function hexFloat(s: string): number {
  const m = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(s.trim());
  if (!m) throw new Error('bad hex float ' + s);
  const frac = m[3] ?? '';
  // mantissa digits fit in 53 bits for every constant used here (at most 1 + 13 hex digits)
  const mant = parseInt(m[2] + frac, 16);
  const v = mant * Math.pow(2, Number(m[4]) - 4 * frac.length);
  return m[1] ? -v : v;
}

const SPLITTER = 134217729; // 2^27 + 1

/** The exact rounding error a*b - p of p = fl(a*b), by Dekker's splitting (Veltkamp split of each factor). */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * Correctly rounded a * b + c for finite arguments without underflow. a * b = p + e exactly (Veltkamp /
 * Dekker), c + p = th + tl exactly, tl + e = s + err exactly, th + s = y + z exactly (TwoSum), so the exact
 * result is y + z + err with |err| far below the spacing of y. y = RN(th + s) is then RN(a * b + c) unless
 * th + s was an exact tie (|z| half the gap to the neighbour y + 2z) broken against the sign of err, where
 * the answer is y + 2z. (Equivalent to Boldo & Melquiond's emulation with rounding to odd; checked against
 * the C library's fma in the tests.)
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  const e = productError(a, b, p);
  const th = c + p;
  let bb = th - c;
  const tl = (c - (th - bb)) + (p - bb);
  const s = tl + e;
  bb = s - tl;
  const err = (tl - (s - bb)) + (e - bb);
  const y = th + s;
  bb = y - th;
  const z = (th - (y - bb)) + (s - bb);
  const z2 = z + z;
  if (y + z2 - y === z2 && z !== 0 && err !== 0 && (err > 0) === (z > 0)) return y + z2;
  return e - e === 0 && th - th === 0 ? y : p + c; // p + c: infinite or NaN operands, overflow
}

const LOG_LN2HI = hexFloat('0x1.62e42fefa3800p-1');
const LOG_LN2LO = hexFloat('0x1.ef35793c76730p-45');
const LOG_A = ['-0x1.0000000000001p-1', '0x1.555555551305bp-2', '-0x1.fffffffeb459p-3', '0x1.999b324f10111p-3',
  '-0x1.55575e506c89fp-3'].map(hexFloat);
const LOG_B = ['-0x1p-1', '0x1.5555555555577p-2', '-0x1.ffffffffffdcbp-3', '0x1.999999995dd0cp-3', '-0x1.55555556745a7p-3',
  '0x1.24924a344de3p-3', '-0x1.fffffa4423d65p-4', '0x1.c7184282ad6cap-4', '-0x1.999eb43b068ffp-4', '0x1.78182f7afd085p-4',
  '-0x1.5521375d145cdp-4'].map(hexFloat);
// tab[i] = {invc, logc}
const LOG_TAB_SRC = `
0x1.734f0c3e0de9fp+0 -0x1.7cc7f79e69000p-2 0x1.713786a2ce91fp+0 -0x1.76feec20d0000p-2
0x1.6f26008fab5a0p+0 -0x1.713e31351e000p-2 0x1.6d1a61f138c7dp+0 -0x1.6b85b38287800p-2
0x1.6b1490bc5b4d1p+0 -0x1.65d5590807800p-2 0x1.69147332f0cbap+0 -0x1.602d076180000p-2
0x1.6719f18224223p+0 -0x1.5a8ca86909000p-2 0x1.6524f99a51ed9p+0 -0x1.54f4356035000p-2
0x1.63356aa8f24c4p+0 -0x1.4f637c36b4000p-2 0x1.614b36b9ddc14p+0 -0x1.49da7fda85000p-2
0x1.5f66452c65c4cp+0 -0x1.445923989a800p-2 0x1.5d867b5912c4fp+0 -0x1.3edf439b0b800p-2
0x1.5babccb5b90dep+0 -0x1.396ce448f7000p-2 0x1.59d61f2d91a78p+0 -0x1.3401e17bda000p-2
0x1.5805612465687p+0 -0x1.2e9e2ef468000p-2 0x1.56397cee76bd3p+0 -0x1.2941b3830e000p-2
0x1.54725e2a77f93p+0 -0x1.23ec58cda8800p-2 0x1.52aff42064583p+0 -0x1.1e9e129279000p-2
0x1.50f22dbb2bddfp+0 -0x1.1956d2b48f800p-2 0x1.4f38f4734ded7p+0 -0x1.141679ab9f800p-2
0x1.4d843cfde2840p+0 -0x1.0edd094ef9800p-2 0x1.4bd3ec078a3c8p+0 -0x1.09aa518db1000p-2
0x1.4a27fc3e0258ap+0 -0x1.047e65263b800p-2 0x1.4880524d48434p+0 -0x1.feb224586f000p-3
0x1.46dce1b192d0bp+0 -0x1.f474a7517b000p-3 0x1.453d9d3391854p+0 -0x1.ea4443d103000p-3
0x1.43a2744b4845ap+0 -0x1.e020d44e9b000p-3 0x1.420b54115f8fbp+0 -0x1.d60a22977f000p-3
0x1.40782da3ef4b1p+0 -0x1.cc00104959000p-3 0x1.3ee8f5d57fe8fp+0 -0x1.c202956891000p-3
0x1.3d5d9a00b4ce9p+0 -0x1.b81178d811000p-3 0x1.3bd60c010c12bp+0 -0x1.ae2c9ccd3d000p-3
0x1.3a5242b75dab8p+0 -0x1.a45402e129000p-3 0x1.38d22cd9fd002p+0 -0x1.9a877681df000p-3
0x1.3755bc5847a1cp+0 -0x1.90c6d69483000p-3 0x1.35dce49ad36e2p+0 -0x1.87120a645c000p-3
0x1.34679984dd440p+0 -0x1.7d68fb4143000p-3 0x1.32f5cceffcb24p+0 -0x1.73cb83c627000p-3
0x1.3187775a10d49p+0 -0x1.6a39a9b376000p-3 0x1.301c8373e3990p+0 -0x1.60b3154b7a000p-3
0x1.2eb4ebb95f841p+0 -0x1.5737d76243000p-3 0x1.2d50a0219a9d1p+0 -0x1.4dc7b8fc23000p-3
0x1.2bef9a8b7fd2ap+0 -0x1.4462c51d20000p-3 0x1.2a91c7a0c1babp+0 -0x1.3b08abc830000p-3
0x1.293726014b530p+0 -0x1.31b996b490000p-3 0x1.27dfa5757a1f5p+0 -0x1.2875490a44000p-3
0x1.268b39b1d3bbfp+0 -0x1.1f3b9f879a000p-3 0x1.2539d838ff5bdp+0 -0x1.160c8252ca000p-3
0x1.23eb7aac9083bp+0 -0x1.0ce7f57f72000p-3 0x1.22a012ba940b6p+0 -0x1.03cdc49fea000p-3
0x1.2157996cc4132p+0 -0x1.f57bdbc4b8000p-4 0x1.201201dd2fc9bp+0 -0x1.e370896404000p-4
0x1.1ecf4494d480bp+0 -0x1.d17983ef94000p-4 0x1.1d8f5528f6569p+0 -0x1.bf9674ed8a000p-4
0x1.1c52311577e7cp+0 -0x1.adc79202f6000p-4 0x1.1b17c74cb26e9p+0 -0x1.9c0c3e7288000p-4
0x1.19e010c2c1ab6p+0 -0x1.8a646b372c000p-4 0x1.18ab07bb670bdp+0 -0x1.78d01b3ac0000p-4
0x1.1778a25efbcb6p+0 -0x1.674f145380000p-4 0x1.1648d354c31dap+0 -0x1.55e0e6d878000p-4
0x1.151b990275fddp+0 -0x1.4485cdea1e000p-4 0x1.13f0ea432d24cp+0 -0x1.333d94d6aa000p-4
0x1.12c8b7210f9dap+0 -0x1.22079f8c56000p-4 0x1.11a3028ecb531p+0 -0x1.10e4698622000p-4
0x1.107fbda8434afp+0 -0x1.ffa6c6ad20000p-5 0x1.0f5ee0f4e6bb3p+0 -0x1.dda8d4a774000p-5
0x1.0e4065d2a9fcep+0 -0x1.bbcece4850000p-5 0x1.0d244632ca521p+0 -0x1.9a1894012c000p-5
0x1.0c0a77ce2981ap+0 -0x1.788583302c000p-5 0x1.0af2f83c636d1p+0 -0x1.5715e67d68000p-5
0x1.09ddb98a01339p+0 -0x1.35c8a49658000p-5 0x1.08cabaf52e7dfp+0 -0x1.149e364154000p-5
0x1.07b9f2f4e28fbp+0 -0x1.e72c082eb8000p-6 0x1.06ab58c358f19p+0 -0x1.a55f152528000p-6
0x1.059eea5ecf92cp+0 -0x1.63d62cf818000p-6 0x1.04949cdd12c90p+0 -0x1.228fb8caa0000p-6
0x1.038c6c6f0ada9p+0 -0x1.c317b20f90000p-7 0x1.02865137932a9p+0 -0x1.419355daa0000p-7
0x1.0182427ea7348p+0 -0x1.81203c2ec0000p-8 0x1.008040614b195p+0 -0x1.0040979240000p-9
0x1.fe01ff726fa1ap-1 0x1.feff384900000p-9 0x1.fa11cc261ea74p-1 0x1.7dc41353d0000p-7
0x1.f6310b081992ep-1 0x1.3cea3c4c28000p-6 0x1.f25f63ceeadcdp-1 0x1.b9fc114890000p-6
0x1.ee9c8039113e7p-1 0x1.1b0d8ce110000p-5 0x1.eae8078cbb1abp-1 0x1.58a5bd001c000p-5
0x1.e741aa29d0c9bp-1 0x1.95c8340d88000p-5 0x1.e3a91830a99b5p-1 0x1.d276aef578000p-5
0x1.e01e009609a56p-1 0x1.07598e598c000p-4 0x1.dca01e577bb98p-1 0x1.253f5e30d2000p-4
0x1.d92f20b7c9103p-1 0x1.42edd8b380000p-4 0x1.d5cac66fb5ccep-1 0x1.606598757c000p-4
0x1.d272caa5ede9dp-1 0x1.7da76356a0000p-4 0x1.cf26e3e6b2ccdp-1 0x1.9ab434e1c6000p-4
0x1.cbe6da2a77902p-1 0x1.b78c7bb0d6000p-4 0x1.c8b266d37086dp-1 0x1.d431332e72000p-4
0x1.c5894bd5d5804p-1 0x1.f0a3171de6000p-4 0x1.c26b533bb9f8cp-1 0x1.067152b914000p-3
0x1.bf583eeece73fp-1 0x1.147858292b000p-3 0x1.bc4fd75db96c1p-1 0x1.2266ecdca3000p-3
0x1.b951e0c864a28p-1 0x1.303d7a6c55000p-3 0x1.b65e2c5ef3e2cp-1 0x1.3dfc33c331000p-3
0x1.b374867c9888bp-1 0x1.4ba366b7a8000p-3 0x1.b094b211d304ap-1 0x1.5933928d1f000p-3
0x1.adbe885f2ef7ep-1 0x1.66acd2418f000p-3 0x1.aaf1d31603da2p-1 0x1.740f8ec669000p-3
0x1.a82e63fd358a7p-1 0x1.815c0f51af000p-3 0x1.a5740ef09738bp-1 0x1.8e92954f68000p-3
0x1.a2c2a90ab4b27p-1 0x1.9bb3602f84000p-3 0x1.a01a01393f2d1p-1 0x1.a8bed1c2c0000p-3
0x1.9d79f24db3c1bp-1 0x1.b5b515c01d000p-3 0x1.9ae2505c7b190p-1 0x1.c2967ccbcc000p-3
0x1.9852ef297ce2fp-1 0x1.cf635d5486000p-3 0x1.95cbaeea44b75p-1 0x1.dc1bd3446c000p-3
0x1.934c69de74838p-1 0x1.e8c01b8cfe000p-3 0x1.90d4f2f6752e6p-1 0x1.f5509c0179000p-3
0x1.8e6528effd79dp-1 0x1.00e6c121fb800p-2 0x1.8bfce9fcc007cp-1 0x1.071b80e93d000p-2
0x1.899c0dabec30ep-1 0x1.0d46b9e867000p-2 0x1.87427aa2317fbp-1 0x1.13687334bd000p-2
0x1.84f00acb39a08p-1 0x1.1980d67234800p-2 0x1.82a49e8653e55p-1 0x1.1f8ffe0cc8000p-2
0x1.8060195f40260p-1 0x1.2595fd7636800p-2 0x1.7e22563e0a329p-1 0x1.2b9300914a800p-2
0x1.7beb377dcb5adp-1 0x1.3187210436000p-2 0x1.79baa679725c2p-1 0x1.377266dec1800p-2
0x1.77907f2170657p-1 0x1.3d54ffbaf3000p-2 0x1.756cadbd6130cp-1 0x1.432eee32fe000p-2`;
const LOG_TAB = Float64Array.from(LOG_TAB_SRC.trim().split(/\s+/).map(hexFloat));
if (LOG_TAB.length !== 256) throw new Error('glibcLog: bad table');

// POW2[1100 + m] = 2^m for -1100 <= m <= 1100 (0 / Infinity beyond the double range)
const POW2 = new Float64Array(2201);
POW2[1100] = 1;
for (let i = 1101; i < 2201; i++) POW2[i] = POW2[i - 1] * 2; // exact doubling (Infinity past 2^1023)
for (let i = 1099; i >= 0; i--) POW2[i] = POW2[i + 1] / 2; // exact halving (0 past 2^-1074)

const NEAR1_LO = 0x3fee0000; // high word of 1 - 0x1p-4 (low word 0)
const NEAR1_HI = 0x3ff10900; // high word of 1 + 0x1.09p-4 (low word 0)

/** Natural logarithm, bit-identical to glibc's `__log_fma` (glibc >= 2.28 on x86-64 with FMA). */
export function glibcLog(x: number): number {
  f64[0] = x;
  let hiw = u32[1];
  // near 1: bits(1 - 2^-4) <= ix < bits(1 + 0x1.09p-4)
  if (hiw >= NEAR1_LO && hiw < NEAR1_HI) {
    if (x === 1) return 0;
    const B = LOG_B;
    const r = x - 1.0;
    const r2 = r * r;
    const r3 = r * r2;
    const p78910 = fma(r3, B[10], fma(r2, B[9], fma(r, B[8], B[7])));
    const pin = fma(r3, p78910, fma(r2, B[6], fma(r, B[5], B[4])));
    const poly = fma(r3, pin, fma(r2, B[3], fma(r, B[2], B[1])));
    const rhi = fma(-r, 134217728, fma(r, 134217728, r));
    const rlo = r - rhi;
    const s = rhi * rhi;
    const hi = fma(s, B[0], r);
    let lo = fma(s, B[0], r - hi);
    lo = fma(B[0] * rlo, rhi + r, lo);
    return fma(r3, poly, lo) + hi;
  }
  const top = hiw >>> 16;
  let expAdj = 0;
  if (top - 0x0010 >= 0x7ff0 - 0x0010 || top < 0x0010) {
    if (x === 0) return -Infinity;
    if (x === Infinity) return x;
    if (!(x > 0)) return NaN;
    // subnormal: scale into the normal range
    f64[0] = x * 4503599627370496; // 2^52
    hiw = u32[1];
    expAdj = -52;
  }
  // tmp = ix - 0x3fe6000000000000 (only the high word matters for i and k; z keeps the low word)
  const tmpHi = (hiw - 0x3fe60000) | 0;
  const i = (tmpHi >>> 13) & 127; // (tmp >> 45) % 128
  const k = (tmpHi >> 20) + expAdj; // arithmetic shift
  // iz = ix - (tmp & 0xfff << 52): the same significand with the exponent lowered by k
  const z = f64[0] * POW2[1100 - (tmpHi >> 20)];
  const invc = LOG_TAB[2 * i];
  const logc = LOG_TAB[2 * i + 1];
  const A = LOG_A;
  // r = fma(z, invc, -1): z * invc = p + e exactly, p - 1 is exact (p is within 2^-7 of 1), so a single
  // rounded addition of (p - 1) and e gives the fused result
  const p = z * invc;
  const r = (p - 1.0) + productError(z, invc, p);
  const kd = k;
  // k * ln2hi + logc is exact by construction of the table (|k| < 2^11), so fused or not is the same
  const w = kd * LOG_LN2HI + logc;
  const hi = w + r;
  // k * ln2lo is exact when |k| < 16 (ln2lo has 49 significant bits)
  const lo = kd > -16 && kd < 16 ? kd * LOG_LN2LO + ((w - hi) + r) : fma(kd, LOG_LN2LO, (w - hi) + r);
  const r2 = r * r;
  return fma(r * r2, fma(r2, fma(r, A[4], A[3]), fma(r, A[2], A[1])), fma(r2, A[0], lo)) + hi;
}
