#!/usr/bin/python3
"""Golden values for csgnet's kdbu and lid detectors (src/detect/kdbu.ts, lid.ts), Debian's python3:

    /usr/bin/python3 scripts/golden/detection_extra.py        (after nn_models.py and detection.py)

The reference repositories (rfeinman/detecting-adversarial-samples for KD+BU, Feinman et al. 2017;
xingjunm/lid_adversarial_subspace_detection for LID, Ma et al. 2018) are Keras/TensorFlow, which Debian's
python3 lacks, and no copy is mirrored here: their numpy/scikit-learn steps are re-stated below (marked
"as theirs"), so every value is produced_by "reimplementation" (recorded per method in the metadata).

test/golden/detection_extra.safetensors:
  kde_train [60, 16], kde_x [12, 16] (float64): sklearn KernelDensity(kernel='gaussian', bandwidth h)
    .fit(kde_train).score_samples(kde_x) -> kde_logp_h1.2, kde_logp_h0.26 (log densities)
  lid_data, lid_batch [30, 20] (float32): Ma et al.'s mle_batch(lid_data, lid_data, 20) -> lid_self,
    mle_batch(lid_data, lid_batch, 20) -> lid_adv, mle_batch(lid_data, lid_batch, 5) -> lid_adv_k5
  lrcv_x [90, 3], lrcv_y: LogisticRegressionCV() as theirs (Cs 10, 5 stratified folds, accuracy, refit) with
    newton-cg at tol 1e-10 (lbfgs stops 1e-4 away from the optimum; the objective is the same) -> lrcv_C,
    lrcv_decision; folds_y -> folds (StratifiedKFold(5).split's test fold of each sample)
  model-based, on detection.safetensors's ResNet-20 (pixel mean 0.5, std 0.25), its 120 training images and
  12 test images x, adv = clamp(x + 0.1 sign(noise)), noisy = clamp(x + same-L2 Gaussian noise):
    kd_features (log density under the predicted class's KDE of the training GAP features, h 1.2) of
      [x; noisy; adv], kd_scores (StandardScaler + LogisticRegressionCV on them, flags 0, 0, 1: decision_function)
    lid_features [36, 4] (layer1, layer2, layer3, logits; k 20 -> 11 in a minibatch of 12; each copy among the
      clean images), lid_scores (likewise)
"""
import json
import os
import struct
import warnings

import numpy as np
import torch
from scipy.spatial.distance import cdist
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler

from build_info import build_info
from nn_models import CifarResNet, load_safetensors, save_safetensors

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')
MEAN, STD = 0.5, 0.25
BANDWIDTH = 1.2     # theirs for MNIST
K_LID = 20
REFERENCES = {
    'kdbu': {'reference': 'rfeinman/detecting-adversarial-samples', 'commit': None, 'produced_by': 'reimplementation',
             'paper': 'Feinman et al. 2017, Detecting Adversarial Samples from Artifacts',
             'steps': 'KernelDensity per class on training features, score_samples at the predicted class; scale(); LogisticRegressionCV'},
    'lid': {'reference': 'xingjunm/lid_adversarial_subspace_detection', 'commit': None, 'produced_by': 'reimplementation',
            'paper': 'Ma et al. 2018, Characterizing Adversarial Subspaces Using Local Intrinsic Dimensionality',
            'steps': 'mle_batch over each minibatch of clean activations; LogisticRegressionCV (their MinMaxScaler replaced by z-scoring, as csgnet)'},
}


def mle_batch(data, batch, k):
    """As theirs (util.py)."""
    data = np.asarray(data, dtype=np.float32)
    batch = np.asarray(batch, dtype=np.float32)
    k = min(k, len(data) - 1)
    f = lambda v: - k / np.sum(np.log(v / v[-1]))
    a = cdist(batch, data)
    a = np.apply_along_axis(np.sort, axis=1, arr=a)[:, 1:k + 1]
    a = np.apply_along_axis(f, axis=1, arr=a)
    return a


def lr_cv():
    # as theirs: LogisticRegressionCV() defaults, with an exact solver
    return LogisticRegressionCV(solver='newton-cg', tol=1e-10, max_iter=200)


def kde_cases(out):
    rng = np.random.default_rng(21)
    train = rng.normal(size=(60, 16)) * 0.3
    x = np.concatenate([train[:6] + rng.normal(size=(6, 16)) * 0.1, rng.normal(size=(6, 16)) * 0.6])
    out['kde_train'], out['kde_x'] = torch.from_numpy(train), torch.from_numpy(x)
    for h in (1.2, 0.26):
        out[f'kde_logp_h{h}'] = torch.from_numpy(KernelDensity(kernel='gaussian', bandwidth=h).fit(train).score_samples(x))


def lid_cases(out):
    rng = np.random.default_rng(22)
    data = (rng.normal(size=(30, 20)) * np.linspace(0.2, 2, 20)).astype(np.float32)
    batch = (data + rng.normal(size=(30, 20)) * 0.5).astype(np.float32)
    out['lid_data'], out['lid_batch'] = torch.from_numpy(data), torch.from_numpy(batch)
    out['lid_self'] = torch.from_numpy(mle_batch(data, data, 20))
    out['lid_adv'] = torch.from_numpy(mle_batch(data, batch, 20))
    out['lid_adv_k5'] = torch.from_numpy(mle_batch(data, batch, 5))


def lrcv_cases(out):
    rng = np.random.default_rng(23)
    y = (rng.random(90) < 0.35).astype(int)
    x = rng.normal(size=(90, 3)) + 0.8 * y[:, None] * np.array([1.0, -0.5, 0.0])
    lr = lr_cv().fit(x, y)
    out['lrcv_x'], out['lrcv_y'] = torch.from_numpy(x), torch.from_numpy(y)
    out['lrcv_C'] = torch.tensor([float(lr.C_[0])], dtype=torch.float64)
    out['lrcv_decision'] = torch.from_numpy(lr.decision_function(x))
    fy = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0])
    folds = np.zeros(len(fy), dtype=np.int64)
    for f, (_, test) in enumerate(StratifiedKFold(5).split(np.zeros(len(fy)), fy)):
        folds[test] = f
    out['folds_y'], out['folds'] = torch.from_numpy(fy), torch.from_numpy(folds)


def standardized_lr(features, labels):
    # as theirs: z-score over the whole set (scale() = StandardScaler), then LogisticRegressionCV
    z = StandardScaler().fit(features)
    return lr_cv().fit(z.transform(features), labels).decision_function(z.transform(features))


def model_cases(out, net, det):
    train_x, train_y, x = det['train_x'], det['train_y'], det['x']
    g = torch.Generator().manual_seed(24)
    adv = (x + 0.1 * torch.sign(torch.randn(x.shape, generator=g))).clamp(0, 1)
    z = torch.randn(x.shape, generator=g)
    l2 = (adv - x).flatten(1).norm(dim=1)
    noisy = (x + z * (l2 / z.flatten(1).norm(dim=1))[:, None, None, None]).clamp(0, 1)
    out['adv'], out['noisy'] = adv, noisy
    flags = np.array([0] * 24 + [1] * 12)

    acts = {}
    hooks = [getattr(net, n).register_forward_hook(lambda m, i, o, n=n: acts.__setitem__(n, o)) for n in ('layer1', 'layer2', 'layer3')]
    with torch.no_grad():
        def forward(v):
            f = net.features((v - MEAN) / STD)
            logits = net.fc(f.mean((2, 3)))
            return f.mean((2, 3)).double().numpy(), logits, [acts[n].flatten(1).numpy() for n in ('layer1', 'layer2', 'layer3')] + [logits.numpy()]

        tf, _, _ = forward(train_x)
        ty = train_y.numpy()
        # as theirs: one KDE per class on the training features of that class
        kdes = {c: KernelDensity(kernel='gaussian', bandwidth=BANDWIDTH).fit(tf[ty == c]) for c in range(10)}
        kd, lids = [], []
        ref_layers = forward(x)[2]
        for v in (x, noisy, adv):
            f, logits, layers = forward(v)
            preds = logits.argmax(1).numpy()
            # as theirs (score_samples): each sample under its predicted class's KDE
            kd.append([kdes[int(p)].score_samples(row.reshape(1, -1))[0] for row, p in zip(f, preds)])
            # as theirs (get_lids_random_batch): each copy among the clean minibatch's activations
            lids.append(np.stack([mle_batch(r, a, K_LID) for r, a in zip(ref_layers, layers)], 1))
    for h in hooks:
        h.remove()
    kd = np.concatenate(kd)[:, None]
    lid = np.concatenate(lids)
    out['kd_features'] = torch.from_numpy(kd[:, 0])
    out['kd_scores'] = torch.from_numpy(standardized_lr(kd, flags))
    out['lid_features'] = torch.from_numpy(lid)
    out['lid_scores'] = torch.from_numpy(standardized_lr(lid, flags))


def main():
    warnings.filterwarnings('ignore', message='newton-cg failed to converge')
    # newton-cg's line search stops on rounding at tol 1e-10: the optimum to rounding, said in two warnings
    warnings.filterwarnings('ignore', message='.*[Ll]ine [Ss]earch')
    warnings.filterwarnings('ignore', message='Rounding errors prevent')
    det_tensors = load_safetensors(os.path.join(OUT, 'detection.safetensors'))
    with open(os.path.join(OUT, 'detection.safetensors'), 'rb') as f:
        det_meta = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))['__metadata__']
    weights = load_safetensors(os.path.join(OUT, det_meta['weights_file']))
    net = CifarResNet(20, 1, 10)
    net.load_state_dict({k[2:]: v.float() for k, v in weights.items() if k.startswith('w.')})
    net.eval()
    out = {}
    kde_cases(out)
    lid_cases(out)
    lrcv_cases(out)
    model_cases(out, net, det_tensors)
    meta = build_info()
    meta.update({'references': json.dumps(REFERENCES), 'weights_file': det_meta['weights_file'], 'weights_sha256': det_meta['weights_sha256'],
                 'inputs': 'detection.safetensors (train_x, train_y, x)', 'pixel_mean': str(MEAN), 'pixel_std': str(STD),
                 'kd_bandwidth': str(BANDWIDTH), 'lid_k': str(K_LID)})
    size = save_safetensors(os.path.join(OUT, 'detection_extra.safetensors'), {k: v.contiguous() for k, v in out.items()}, meta)
    print(json.dumps({'detection_extra.safetensors': size, 'lrcv_C': out['lrcv_C'].item()}))


if __name__ == '__main__':
    main()
