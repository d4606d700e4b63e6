#!/usr/bin/python3
"""scikit-learn reference timing for bench/mis.ts: the one-vs-rest MI matrix of the released script,
M[c] = mutual_info_classif(F, y == c, random_state=0), c = 0..C-1.

    /usr/bin/python3 bench/sklearn_mi.py --features F.npy --labels y.npy --classes 10 [--out M.npy]

Prints one JSON line: {"seconds": ..., "cpu_seconds": ..., "n": ..., "k": ..., "classes": ..., "mis": ...}. Only the MI
loop is timed (not loading the files).
"""
import argparse
import json
import time

import numpy as np
import sklearn
from sklearn.feature_selection import mutual_info_classif


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--features', required=True)
    ap.add_argument('--labels', required=True)
    ap.add_argument('--classes', type=int, required=True)
    ap.add_argument('--n-neighbors', type=int, default=3)
    ap.add_argument('--random-state', type=int, default=0)
    ap.add_argument('--out')
    a = ap.parse_args()
    F = np.load(a.features)
    y = np.load(a.labels)
    t0 = time.perf_counter()
    c0 = time.process_time()
    M = np.stack([mutual_info_classif(F, y == c, discrete_features=False, n_neighbors=a.n_neighbors,
                                      random_state=a.random_state) for c in range(a.classes)])
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    if a.out:
        np.save(a.out, M)
    print(json.dumps({'seconds': seconds, 'cpu_seconds': cpu_seconds, 'n': int(F.shape[0]), 'k': int(F.shape[1]), 'classes': a.classes,
                      'dtype': str(F.dtype), 'mis': float(M.max(axis=0).mean()), 'sklearn': sklearn.__version__}))


if __name__ == '__main__':
    main()
