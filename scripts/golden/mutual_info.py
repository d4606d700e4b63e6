#!/usr/bin/python3
"""Golden values for src/metrics/mutual_info.ts, src/metrics/numpy_random.ts and src/io/npy.ts.

Run with Debian's own interpreter (NumPy 1.24, SciPy 1.10, scikit-learn 1.2):
    /usr/bin/python3 scripts/golden/mutual_info.py
Writes
  test/golden/numpy_random.json  legacy RandomState draws, glibc log / fma, SciPy digamma
  test/golden/mutual_info.json   sklearn mutual_info_classif cases, one-vs-rest matrices and MIS
  test/golden/npy/*.npy          small files written by numpy.save / numpy.lib.format (npy reader tests)

Float arrays that feed the TypeScript side are stored as base64 of their little-endian bytes
({"dtype": "<f4", "shape": [...], "b64": "..."}) so they arrive bit for bit; results are plain JSON
numbers (Python writes the shortest repr that round-trips, so JavaScript parses the same doubles).
"""
import base64
import ctypes
import json
import math
import os

import numpy as np
import scipy.special
import sklearn
import sklearn.feature_selection._mutual_info as skmi
from sklearn.feature_selection import mutual_info_classif

from build_info import build_info  # noqa: E402  (torch version, build configuration, BLAS in use)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, 'test', 'golden')


def arr(a):
    a = np.ascontiguousarray(a)
    dt = a.dtype.newbyteorder('<') if a.dtype.byteorder not in ('|', '<', '=') else a.dtype
    return {'dtype': dt.str, 'shape': list(a.shape), 'b64': base64.b64encode(a.astype(dt).tobytes()).decode()}


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


# ----------------------------------------------------------------------------------------------------
# numpy_random.json

def numpy_random():
    out = {'numpy': np.__version__, 'scipy': scipy.__version__}
    for seed in (0, 42):
        out[f'standard_normal_seed{seed}'] = floats(np.random.RandomState(seed).standard_normal(1000))
    rs = np.random.RandomState(0)
    out['raw_uint32_seed0'] = [int(v) for v in rs.randint(0, 2**32, size=16, dtype=np.uint64)]
    rs = np.random.RandomState(2**32 - 1)
    out['random_sample_seed4294967295'] = floats(rs.random_sample(200))
    # stream sharing: a scalar draw, then an odd-sized array, then a scalar (the cached gauss carries over)
    rs = np.random.RandomState(7)
    a = [rs.standard_normal()]
    a += floats(rs.standard_normal(5))
    a += [rs.standard_normal()]
    a += floats(rs.random_sample(3))
    a += floats(rs.standard_normal(2))
    out['mixed_seed7'] = floats(a)
    out['normal_seed123'] = {'loc': 1.5, 'scale': 2.0, 'shape': [50, 4],
                             'values': floats(np.random.RandomState(123).normal(1.5, 2.0, size=(50, 4)))}
    out['permutation_seed3_n20'] = [int(v) for v in np.random.RandomState(3).permutation(20)]
    out['choice_seed5_n50_k10'] = [int(v) for v in np.random.RandomState(5).choice(50, 10, replace=False)]
    out['choice_seed5_n300_k40'] = [int(v) for v in np.random.RandomState(5).choice(300, 40, replace=False)]

    libm = ctypes.CDLL('libm.so.6')
    libm.log.restype = ctypes.c_double
    libm.log.argtypes = [ctypes.c_double]
    libm.fma.restype = ctypes.c_double
    libm.fma.argtypes = [ctypes.c_double] * 3
    rs = np.random.RandomState(11)
    xs = np.concatenate([rs.random_sample(300), 0.93 + 0.14 * rs.random_sample(200),
                         np.exp(rs.uniform(-700, 700, 100)), rs.random_sample(10) * 1e-310,
                         [1.0, 0.5, 2.0, 1e-300, 1.7976931348623157e308, 5e-324]])
    out['log'] = {'x': floats(xs), 'y': [libm.log(float(v)) for v in xs]}
    a = rs.standard_normal(300) * np.exp(rs.uniform(-30, 30, 300))
    b = rs.standard_normal(300)
    c = rs.standard_normal(300) * np.exp(rs.uniform(-30, 30, 300))
    out['fma'] = {'a': floats(a), 'b': floats(b), 'c': floats(c),
                  'y': [libm.fma(float(p), float(q), float(r)) for p, q, r in zip(a, b, c)]}
    ints = list(range(1, 60)) + [100, 999, 1000, 4097, 10000, 123456, 10**7]
    out['digamma_int'] = {'x': ints, 'y': floats(scipy.special.digamma(np.array(ints, dtype=np.float64)))}
    reals = [0.1, 0.5, 1.5, 2.25, 3.7, 9.99, 10.5, 42.42]
    out['digamma_real'] = {'x': reals, 'y': floats(scipy.special.digamma(np.array(reals)))}
    # numpy's float64 summation (pairwise within 8192-element blocks)
    # (x = 1e3 * RandomState(13).standard_normal(20001), regenerated on the TypeScript side)
    v = np.random.RandomState(13).standard_normal(20001) * 1e3
    out['sum_seed13'] = {'scale': 1e3, 'n': 20001,
                         'prefix_sums': {str(n): float(np.sum(v[:n])) for n in (5, 8, 100, 129, 1000, 8192, 8193, 20001)}}
    return out


# ----------------------------------------------------------------------------------------------------
# mutual_info.json

captured = []
_orig_cd = skmi._compute_mi_cd


def _capture_cd(c, d, n_neighbors):
    captured.append(np.array(c, dtype=np.float64))
    return _orig_cd(c, d, n_neighbors)


def prepared_columns(X, y, **kw):
    """The scaled and noised columns sklearn hands to _compute_mi_cd."""
    captured.clear()
    skmi._compute_mi_cd = _capture_cd
    try:
        mutual_info_classif(X, y, discrete_features=False, **kw)
    finally:
        skmi._compute_mi_cd = _orig_cd
    return np.stack(captured)  # [K][N]


def mi_case(name, X, y, n_neighbors=3, random_state=0, note=''):
    mi = mutual_info_classif(X, y, discrete_features=False, n_neighbors=n_neighbors, random_state=random_state)
    return {'name': name, 'note': note, 'X': arr(X), 'y': [int(v) for v in y], 'n_neighbors': n_neighbors,
            'random_state': random_state, 'mi': floats(mi)}


def ovr_matrix(F, y, C, balanced=False, normalize=False, seed=0, n_neighbors=3):
    """One-vs-rest M[c, k]; balanced/normalized variants exactly as documented in src/metrics/mi/one_vs_rest.ts (MiMatrixOptions)."""
    K = F.shape[1]
    M = np.zeros((C, K))
    rs = np.random.RandomState(seed)
    for c in range(C):
        if balanced:
            pos = np.flatnonzero(y == c)
            neg = np.flatnonzero(y != c)
            if len(neg) > len(pos):
                chosen = neg[rs.choice(len(neg), len(pos), replace=False)]
                rows = np.sort(np.concatenate([pos, chosen]))
            else:
                rows = np.arange(len(y))
            M[c] = mutual_info_classif(F[rows], y[rows] == c, discrete_features=False,
                                       n_neighbors=n_neighbors, random_state=seed)
        else:
            M[c] = mutual_info_classif(F, y == c, discrete_features=False, n_neighbors=n_neighbors, random_state=seed)
    if normalize:
        s = M.sum(axis=0)
        M = np.where(s > 0, M / np.where(s > 0, s, 1), 0.0)
    return M


def mutual_info():
    rs = np.random.RandomState(2024)
    cases = []

    # 1. gaussian features, three classes, class signal in two features
    n, k = 500, 4
    y = rs.randint(0, 3, n)
    X = rs.standard_normal((n, k)) * [1.0, 3.0, 0.2, 10.0] + [0.0, 5.0, -1.0, 100.0]
    X[:, 0] += y * 0.8
    X[:, 2] -= (y == 1) * 0.3
    cases.append(mi_case('gaussian', X, y, note='float64, 3 classes'))

    # 2. ReLU-like float32 features: many exact zeros, values rounded to a grid (ties)
    n, k = 800, 4
    y = rs.randint(0, 2, n)
    Z = rs.standard_normal((n, k)) - 0.4
    Z[:, 1] += y * 0.7
    X = np.maximum(0, Z).astype(np.float32)
    X[:, 2] = np.round(X[:, 2] * 4) / 4
    X[:, 3] = np.round(X[:, 3])
    cases.append(mi_case('relu_ties_f32', X, y, note='float32, exact zeros and repeated values'))

    # 3. constant feature, a single-sample class, tiny classes (sklearn's brute-force neighbour search)
    n, k = 300, 3
    y = rs.randint(0, 3, n)
    y[0] = 9            # one sample only: excluded from the estimate
    y[1:3] = 8          # count 2
    y[3:6] = 7          # count 3
    y[6:11] = 6         # count 5
    y[11:18] = 5        # count 7 (last brute-force size for k = 3)
    y[18:26] = 4        # count 8 (KD-tree)
    X = rs.standard_normal((n, k))
    X[:, 0] += (y % 3) * 0.5
    X[:, 1] = 3.25      # constant
    cases.append(mi_case('constant_singleton_small', X, y, note='constant feature, class of one, classes of 2..8'))

    # 4. unbalanced binary target (2% positives), n_neighbors 5
    n, k = 1000, 3
    y = (rs.random_sample(n) < 0.02).astype(int)
    X = np.abs(rs.standard_normal((n, k)))
    X[:, 0] += y * 1.5
    cases.append(mi_case('unbalanced_nn5', X, y, n_neighbors=5, note='2% positives'))

    # 5. n_neighbors 1, random_state 42
    n, k = 400, 3
    y = rs.randint(0, 4, n)
    X = rs.standard_normal((n, k)).astype(np.float32)
    X[:, 1] += (y == 2)
    cases.append(mi_case('nn1_seed42', X, y, n_neighbors=1, random_state=42))

    # 6. large offset, small spread (the brute-force GEMM expansion loses digits), small classes
    n, k = 60, 2
    y = rs.randint(0, 6, n)
    X = 1000 + rs.standard_normal((n, k)) * [1.0, 1e-3]
    cases.append(mi_case('offset_brute', X, y, note='classes of about 10, k >= count // 2 for some'))

    # 7. one feature (K = 1), n_neighbors 3
    n = 333
    y = rs.randint(0, 2, n)
    X = (rs.standard_normal((n, 1)) + y[:, None] * 1.5).astype(np.float32)
    cases.append(mi_case('single_feature', X, y))

    # sklearn's internal, scaled and noised columns for a small float32 and float64 case
    Xp32 = np.abs(rs.standard_normal((40, 3))).astype(np.float32)
    Xp32[:, 2] = 0.5
    # > 8192 rows (blocked pairwise sums); X = 7 * RandomState(77).standard_normal((9000, 2)) + 3, regenerated
    # on the TypeScript side; every 97th prepared value of each column is stored
    Xp64 = np.random.RandomState(77).standard_normal((9000, 2)) * 7 + 3
    cols64 = prepared_columns(Xp64, np.arange(9000) % 3, random_state=5)
    yp = np.arange(40) % 2
    prepared = [
        {'name': 'f32', 'X': arr(Xp32), 'random_state': 0, 'cols': arr(prepared_columns(Xp32, yp, random_state=0))},
        {'name': 'f64_gen', 'gen': {'seed': 77, 'n': 9000, 'k': 2, 'mul': 7.0, 'add': 3.0}, 'random_state': 5,
         'every': 97, 'cols_subset': [floats(c[::97]) for c in cols64]},
    ]

    # one-vs-rest over 10 classes: GAP-like float32 features
    n, k, C = 600, 6, 10
    y = rs.randint(0, C, n)
    F = np.maximum(0, rs.standard_normal((n, k)) - 0.2).astype(np.float32)
    for j in range(k - 1):
        F[:, j] += (y == (2 * j) % C).astype(np.float32) * np.float32(0.6 + 0.1 * j)
    F[:, k - 1] = np.round(F[:, k - 1] * 2) / 2
    y[:5] = 3   # class 3 a bit bigger; keep all 10 classes present
    M = ovr_matrix(F, y, C)
    Mb = ovr_matrix(F, y, C, balanced=True)
    Mn = ovr_matrix(F, y, C, normalize=True)
    Mbn = ovr_matrix(F, y, C, balanced=True, normalize=True, seed=3)
    mis = lambda m: float(np.mean(np.max(m, axis=0)))
    ovr = {'F': arr(F), 'y': [int(v) for v in y], 'C': C,
           'M': floats(M), 'mis': mis(M),
           'M_balanced': floats(Mb), 'mis_balanced': mis(Mb),
           'M_normalized': floats(Mn), 'mis_normalized': mis(Mn),
           'M_balanced_normalized_seed3': floats(Mbn), 'mis_balanced_normalized_seed3': mis(Mbn)}
    return {'sklearn': sklearn.__version__, 'numpy': np.__version__, 'cases': cases, 'prepared': prepared, 'ovr': ovr}


# ----------------------------------------------------------------------------------------------------
# npy files

def npy_files():
    d = os.path.join(GOLDEN, 'npy')
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, 'f4_2x3.npy'), np.array([[1.5, -2.25, 3e-8], [np.inf, 0.0, -0.0]], dtype='<f4'))
    np.save(os.path.join(d, 'f8_5.npy'), np.array([math.pi, -1e300, 5e-324, 1.0, 2.0 / 3.0], dtype='<f8'))
    np.save(os.path.join(d, 'i8_2x2.npy'), np.array([[2**62, -3], [0, -(2**63)]], dtype='<i8'))
    np.save(os.path.join(d, 'i4_4.npy'), np.array([1, -2, 2**31 - 1, -(2**31)], dtype='<i4'))
    np.save(os.path.join(d, 'u1_3x1x2.npy'), np.arange(6, dtype='|u1').reshape(3, 1, 2) * 50)
    np.save(os.path.join(d, 'b1_4.npy'), np.array([True, False, False, True]))
    np.save(os.path.join(d, 'i2_3.npy'), np.array([-32768, 0, 32767], dtype='<i2'))
    np.save(os.path.join(d, 'f8_scalar.npy'), np.float64(-7.5))
    np.save(os.path.join(d, 'f4_0x3.npy'), np.zeros((0, 3), dtype='<f4'))
    with open(os.path.join(d, 'f4_2x2_v2.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype='<f4'), version=(2, 0))
    with open(os.path.join(d, 'i4_3_v3.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.array([7, 8, 9], dtype='<i4'), version=(3, 0))
    np.save(os.path.join(d, 'bad_bigendian.npy'), np.array([1, 2], dtype='>f4'))
    np.save(os.path.join(d, 'bad_fortran.npy'), np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
    np.save(os.path.join(d, 'bad_complex.npy'), np.array([1 + 2j], dtype='<c16'))
    # a float32 file whose data was cut short
    raw = open(os.path.join(d, 'f4_2x3.npy'), 'rb').read()
    open(os.path.join(d, 'bad_truncated.npy'), 'wb').write(raw[:-5])


def main():
    os.makedirs(GOLDEN, exist_ok=True)
    with open(os.path.join(GOLDEN, 'numpy_random.json'), 'w') as f:
        json.dump({**numpy_random(), '__metadata__': build_info()}, f)
    with open(os.path.join(GOLDEN, 'mutual_info.json'), 'w') as f:
        json.dump({**mutual_info(), '__metadata__': build_info()}, f)
    npy_files()
    for name in ('numpy_random.json', 'mutual_info.json'):
        print(name, os.path.getsize(os.path.join(GOLDEN, name)), 'bytes')


if __name__ == '__main__':
    main()
