#!/usr/bin/python3
"""Golden values for csgnet's seed statistics (src/metrics/stats.ts) with SciPy and NumPy (Debian's python3):

    /usr/bin/python3 scripts/golden/stats.py

test/golden/stats.json:
  t_ppf: scipy.stats.t.ppf(p, df) for df 1..30, 40, 60, 120, 1000 and non-integer 2.5, 7.3, at the
         probabilities in `probabilities` (the 95 % interval uses p = 0.975), and `exact`, the same quantile to
         30 digits with mpmath (root of 1 - I_x(df/2, 1/2)/2 = p, x = df/(df+t^2)): SciPy 1.10's ppf is up to
         5e-9 (relative) off it
  samples: seeded samples (n = 2..10) -> numpy mean, sample std (ddof 1) and the 95 % t interval
         mean -/+ t.ppf(0.975, n - 1) * std / sqrt(n) (scipy.stats.t.interval)
"""
import json
import os

import mpmath
import numpy as np
import scipy.stats
import torch  # noqa: F401  (build_info records torch like every golden)

from build_info import build_info

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'test', 'golden', 'stats.json')

probabilities = [0.5, 0.6, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.025, 0.001]
dfs = list(range(1, 31)) + [40, 60, 120, 1000, 2.5, 7.3]
mpmath.mp.dps = 30


def exact_ppf(p, df):
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -exact_ppf(1 - p, df)
    upper = mpmath.mpf(1) - mpmath.mpf(p)
    tail = lambda t: mpmath.betainc(mpmath.mpf(df) / 2, 0.5, 0, df / (df + t * t), regularized=True) / 2 - upper
    return float(mpmath.findroot(tail, mpmath.mpf(float(scipy.stats.t.ppf(p, df)))))


t_ppf = [{'df': df, 'p': p, 'ppf': float(scipy.stats.t.ppf(p, df)), 'exact': exact_ppf(p, df)} for df in dfs for p in probabilities]

rng = np.random.default_rng(15)
samples = []
for n in range(2, 11):
    x = rng.normal(0.9, 0.02, size=n)
    m, s = float(np.mean(x)), float(np.std(x, ddof=1))
    lo, hi = scipy.stats.t.interval(0.95, n - 1, loc=m, scale=s / np.sqrt(n))
    samples.append({'values': [float(v) for v in x], 'mean': m, 'std': s, 'ci95': [float(lo), float(hi)]})

with open(OUT, 'w') as f:
    json.dump({'__metadata__': build_info(), 'probabilities': probabilities, 't_ppf': t_ppf, 'samples': samples}, f, indent=1)
    f.write('\n')
print(f'wrote {OUT}')
