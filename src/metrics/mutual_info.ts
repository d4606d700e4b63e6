// Mutual information between continuous features and a discrete target, reproducing scikit-learn's
// `mutual_info_classif(X, y, discrete_features=False, n_neighbors, random_state)` (sklearn 1.2,
// feature_selection/_mutual_info.py: `_estimate_mi` + `_compute_mi_cd`, Ross 2014), and the MIS score of
// docs/method.md section 4 built on it.
//
// What is reproduced, step by step (bit for bit where NumPy / SciPy / sklearn are deterministic):
//
// 1. Scaling (`sklearn.preprocessing.scale(X, with_mean=False)`): each column is divided by its population
//    standard deviation (`np.nanstd`, ddof 0), computed in the input's precision (float32 stays float32, as
//    `check_X_y` keeps it) with NumPy's blocked pairwise summation (`X[:, mask]` is Fortran-ordered, so the
//    column reductions run over contiguous memory: pairwise sums over blocks of 8192, added in sequence);
//    a standard deviation below 10 * eps of the dtype counts as 1. The result is then cast to float64.
// 2. Noise: `X += 1e-10 * max(1, mean|x_j|) * rng.standard_normal(size=(n, K))` with
//    `rng = np.random.RandomState(random_state)`: one [n, K] array drawn in row-major order (column j of
//    it goes to feature j). `randomState: null` seeds from Math.random (sklearn would use NumPy's global
//    generator; results are then not reproducible, as in sklearn).
// 3. Per feature, `_compute_mi_cd`: for each label with count > 1, k = min(n_neighbors, count - 1) and
//    r_i = nextafter(distance to the k-th nearest other sample of the same label, 0). sklearn finds these
//    with `NearestNeighbors`, which picks a KD-tree (exact |x_i - x_j|) unless k >= count // 2, where it
//    uses brute force with the GEMM expansion sqrt(max(0, x_i^2 - 2 x_i x_j + x_j^2)); both are replayed
//    exactly. Samples whose label occurs once are dropped; then m_i = #{j : |x_i - x_j| <= r_i} over the
//    remaining samples (itself included; a KD-tree radius count, done here on the sorted column with a
//    galloping search) and
//        MI = psi(n) + mean psi(k_i) - mean psi(count_i) - mean psi(m_i),   clipped below at 0
//    (means are NumPy's pairwise sums / n; psi is SciPy's cephes digamma, with glibc's log).
//
// A quirk this keeps: for labels with few samples (k >= count // 2) the brute-force expansion cannot resolve
// the 1e-10 noise of a constant or near-constant feature, so sklearn reports a spurious positive MI for it
// (0.19 nats in the 'constant_singleton_small' golden case); with the large classes of one-vs-rest MIS this
// does not arise.
//
// Speed: every feature is one-dimensional, so each column is sorted once (radix sort) and reused for all
// targets; k-th neighbour distances come from runs of k + 1 consecutive sorted values and radius counts
// from a scan / galloping search. For one-vs-rest targets the neighbour work of the negatives is shared
// across classes (`OneVsRest`), so a [C][K] matrix costs about O(K N (log N + k C)) with small constants;
// `miMatrixAsync` also spreads features over worker threads. All paths give identical numbers.
//
// Where it lives (src/metrics/mi/): numerics.ts (digamma, NumPy's pairwise sums), prepare.ts (steps 1-2),
// knn.ts (sorting, neighbour radii and radius counts), estimator.ts (step 3, mutualInfoClassif),
// one_vs_rest.ts (OneVsRest, miMatrix, mis), pool.ts + worker.ts (miMatrixAsync). This module is the
// public face and re-exports them.
export { digamma, numpySum } from './mi/numerics.js';
export { prepareFeatures, type FeatureArray } from './mi/prepare.js';
export { mutualInfoClassif, type MutualInfoOptions } from './mi/estimator.js';
export { miMatrix, mis, type MiMatrixOptions } from './mi/one_vs_rest.js';
export { miMatrixAsync } from './mi/pool.js';
