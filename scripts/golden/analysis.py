#!/usr/bin/python3
"""Golden values for src/metrics/analysis.ts, computed with NumPy / scikit-learn.

Run with Debian's own interpreter:  /usr/bin/python3 scripts/golden/analysis.py
Writes test/golden/analysis.json. Arrays are flat row-major lists; NaN is written as the string "nan".

Conventions mirrored from the TypeScript side (documented there):
  - argmax ties -> lowest index (np.argmax does this);
  - specificity 0/0 -> 1/C;
  - correlation of a constant feature -> 0 off the diagonal, 1 on it (np.corrcoef gives NaN);
  - order = classes ascending, then score descending, then index (np.lexsort is stable).
"""
import json
import os

import numpy as np
from sklearn.feature_selection import mutual_info_classif

from build_info import build_info  # noqa: E402  (torch version, build configuration, BLAS in use)

rng = np.random.RandomState(1234)
N, K, C = 60, 12, 4

# GAP-like features: non-negative, a few filters tied to a class, one constant filter.
y = rng.randint(0, C, size=N).astype(np.int32)
F = np.abs(rng.randn(N, K)).astype(np.float32)
for k in range(K - 1):
    c = k % C
    F[:, k] += (y == c).astype(np.float32) * np.float32(1.0 + 0.2 * k)
F[:, K - 1] = np.float32(0.7)  # constant filter
F[:, 3] = -F[:, 0] * np.float32(2.0)  # perfectly anti-correlated pair (0, 3)

# MI matrix as the released script computes it, one-vs-rest per class.
M = np.stack([mutual_info_classif(F, y == c, random_state=0) for c in range(C)])  # [C][K]
M[:, 5] = 0.0  # a filter with no information at all -> specificity 1/C

# A projected-looking gate [K][C] with exact ties.
G = rng.rand(K, C)
G = np.round(G / G.max(axis=1, keepdims=True), 1)
G[2, :] = [1.0, 0.3, 1.0, 0.1]  # tie between classes 0 and 2
G[7, :] = 1.0  # all open

gate_assign = np.argmax(G, axis=1)
mi_assign = np.argmax(M, axis=0)
agreement = float(np.mean(gate_assign == mi_assign))
counts_gate = np.bincount(gate_assign, minlength=C)

colsum = M.sum(axis=0)
with np.errstate(invalid='ignore', divide='ignore'):
    spec = np.where(colsum > 0, M.max(axis=0) / colsum, 1.0 / C)

hist_values = np.concatenate([spec, [0.0, 0.1, 0.3, 0.7, 1.0, 1.5, -0.2, np.nan, 0.29999999999999993]])
hist_counts, hist_edges = np.histogram(hist_values[~np.isnan(hist_values)], bins=10, range=(0.0, 1.0))
hist7_counts, hist7_edges = np.histogram(spec, bins=7, range=(0.25, 1.0))

with np.errstate(invalid='ignore', divide='ignore'):
    R = np.corrcoef(F.astype(np.float64), rowvar=False)
const = np.all(F == F[0], axis=0)
R[const, :] = 0.0
R[:, const] = 0.0
R[np.arange(K), np.arange(K)] = 1.0

score = M[mi_assign, np.arange(K)]  # MI with the assigned class
order = np.lexsort((-score, mi_assign))
order_noscore = np.lexsort((np.arange(K), gate_assign))

rows_order = np.array([2, 0, 3, 1])
perm = M[np.ix_(rows_order, order)]

density = float(np.abs(G).sum() / (K * C))


def flat(a):
    return [('nan' if np.isnan(v) else float(v)) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


out = {
    'meta': {'numpy': np.__version__, 'N': N, 'K': K, 'C': C},
    'F': flat(F), 'y': [int(v) for v in y], 'M': flat(M), 'G': flat(G),
    'gate_assign': [int(v) for v in gate_assign],
    'mi_assign': [int(v) for v in mi_assign],
    'agreement': agreement,
    'counts_gate': [int(v) for v in counts_gate],
    'specificity': flat(spec),
    'hist_values': flat(hist_values),
    'hist_edges': flat(hist_edges), 'hist_counts': [int(v) for v in hist_counts],
    'hist7_edges': flat(hist7_edges), 'hist7_counts': [int(v) for v in hist7_counts],
    'corr': flat(R),
    'score': flat(score),
    'order': [int(v) for v in order],
    'order_noscore': [int(v) for v in order_noscore],
    'rows_order': [int(v) for v in rows_order],
    'perm': flat(perm),
    'density': density,
    '__metadata__': build_info(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'golden', 'analysis.json')
with open(path, 'w') as f:
    json.dump(out, f, separators=(',', ':'))
print('wrote', os.path.normpath(path))
