#!/usr/bin/python3
"""Golden values for csgnet's adversarial detectors (src/detect/) and detection metrics
(src/metrics/detection.ts), with scikit-learn, SciPy and PyTorch (Debian's python3):

    /usr/bin/python3 scripts/golden/detection.py        (after nn_models.py, whose ResNet-20 weights it reuses)

test/golden/detection.json (no model):
  metrics: fixed scores (with ties) and 0/1 labels -> sklearn roc_curve(drop_intermediate=False), roc_auc_score,
           TNR at 95 % TPR (1 - fpr at the first ROC point with tpr >= 0.95) and detection accuracy
           (max over ROC points of 0.5 tpr + 0.5 (1 - fpr), Lee et al.)
  logistic: seeded datasets -> LogisticRegression(C, tol 1e-12) coef_/intercept_, raw and StandardScaler'd.
           Solver newton-cg: the default lbfgs stops on its ftol (64 eps) with gradients up to 2e-4 here,
           1e-4 away from the optimum; newton-cg gets within 1e-8 of it (the objective is the same).
test/golden/detection.safetensors (the ResNet-20 of resnet20_parity.safetensors, eval mode, inside a pixel-space
wrapper with mean 0.5, std 0.25; 1x8x8 images in [0, 1], 2x2 last maps):
  train_x, train_y (120 images, every class 12 times), x (12 test images), flags (6 clean, 6 "adversarial")
  G (a random gate [64, 10]); gate_s (s(x) with G); std_assign (the training set's mean-activation assignment)
  and gate_s_std (s(x) with it); lr_features (csg-lr features with G), lr_scores (StandardScaler +
  LogisticRegression() fitted on x, flags, decision_function on x)
  maha_means [10, 64], maha_precision [64, 64] (EmpiricalCovariance of class-centred training features, float64),
  maha_scores (min_c squared distance), maha_scores_noise (after Lee et al.'s input pre-processing, noise 0.01)
  squeeze_bits1, squeeze_bits5 (max L1 between softmaxes, bit depth 1 resp. 5, with the 2x2 median), median
  (scipy.ndimage.median_filter(size=(1, 1, 2, 2), mode='reflect') of x).
Metadata: build info, the weight file's SHA-256, and the float32-vs-float64 gap of the model-based scores.
"""
import hashlib
import json
import warnings
import os

import numpy as np
import scipy.ndimage
import torch
from sklearn.covariance import EmpiricalCovariance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.preprocessing import StandardScaler

from build_info import build_info
from nn_models import CifarResNet, load_safetensors, save_safetensors

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')
WEIGHTS = os.path.join(OUT, 'resnet20_parity.safetensors')
MEAN, STD = 0.5, 0.25
NOISE = 0.01


def metric_case(scores, labels, tpr_target=0.95):
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=False)
    i = int(np.searchsorted(tpr, tpr_target, side='left'))
    acc = 0.5 * tpr + 0.5 * (1 - fpr)
    return {'scores': scores.tolist(), 'labels': labels.tolist(), 'fpr': fpr.tolist(), 'tpr': tpr.tolist(),
            'thresholds': thr[1:].tolist(),   # thresholds[0] is max + 1 in sklearn 1.2 (np.inf in 1.3+): csgnet uses Infinity
            'auroc': float(roc_auc_score(labels, scores)), 'tpr_target': tpr_target, 'tnr_at_tpr': float(1 - fpr[i]),
            'tnr_threshold': float(thr[i]) if i > 0 else None, 'detection_accuracy': float(acc.max()),
            'accuracy_threshold': float(thr[int(acc.argmax())]) if acc.argmax() > 0 else None}


def metric_cases():
    rng = np.random.default_rng(11)
    cases = []
    labels = (rng.random(60) < 0.4).astype(int)
    cases.append(metric_case(np.round(rng.normal(size=60) + labels, 1), labels))          # many ties
    labels = (rng.random(200) < 0.5).astype(int)
    cases.append(metric_case(rng.normal(size=200) + 1.5 * labels, labels, 0.9))            # no ties
    cases.append(metric_case([0.1, 0.2, 0.3, 0.8, 0.9], [0, 0, 0, 1, 1]))                 # separable
    cases.append(metric_case([0.9, 0.8, 0.3, 0.2, 0.1], [0, 0, 0, 1, 1]))                 # inverted
    cases.append(metric_case([0.5] * 6, [0, 1, 0, 1, 1, 0]))                              # all tied
    cases.append(metric_case([1, 2, 2, 3, 3, 3, 4], [0, 0, 1, 0, 1, 1, 1], 0.75))
    return cases


def logistic_cases():
    rng = np.random.default_rng(12)
    cases = []
    for n, d, C, sep, scale in [(80, 4, 1.0, 1.0, 1.0), (50, 3, 0.1, 2.0, 1.0), (40, 2, 1.0, 10.0, 1.0), (60, 5, 1.0, 1.0, 20.0)]:
        y = (rng.random(n) < 0.4).astype(int)
        x = rng.normal(size=(n, d)) * scale + sep * y[:, None] * rng.normal(size=d)[None]
        x[:, 0] += 3.0                                           # an offset the intercept must absorb
        raw = LogisticRegression(C=C, solver='newton-cg', tol=1e-12, max_iter=100000).fit(x, y)
        z = StandardScaler().fit_transform(x)
        std = LogisticRegression(C=C, solver='newton-cg', tol=1e-12, max_iter=100000).fit(z, y)
        cases.append({'x': x.tolist(), 'y': y.tolist(), 'C': C, 'coef': raw.coef_[0].tolist(), 'intercept': float(raw.intercept_[0]),
                      'std_coef': std.coef_[0].tolist(), 'std_intercept': float(std.intercept_[0]),
                      'decision': raw.decision_function(x).tolist()})
    return cases


class Pixel(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward_gap(self, x01):
        f = self.net.features((x01 - MEAN) / STD)
        return self.net.fc(f.mean((2, 3))), f.mean((2, 3))


def gate_s(pm, G, x):
    logits, a = pm.forward_gap(x)
    mass = a @ G / a.sum(1, keepdim=True).clamp_min(1e-12)
    return mass.gather(1, logits.argmax(1, keepdim=True))[:, 0], mass, logits.argmax(1)


def assignment(pm, x, y, C):
    _, a = pm.forward_gap(x)
    m = torch.stack([a[y == c].mean(0) for c in range(C)], 1)          # [K, C], every class present
    g = torch.zeros_like(m)
    g[torch.arange(m.shape[0]), m.argmax(1)] = 1
    return g


def lr_features(pm, G, x):
    _, mass, pred = gate_s(pm, G, x)
    rows = []
    for m, p in zip(mass.double().numpy(), pred.numpy()):
        rest = np.delete(m, p)
        rows.append(np.concatenate([[m[p]], np.sort(rest)[::-1]]))
    return np.array(rows)


def gaussians(pm, x, y, C):
    _, f = pm.forward_gap(x)
    f = f.double().numpy()
    yn = y.numpy()
    means = np.stack([f[yn == c].mean(0) for c in range(C)])
    centred = f - means[yn]
    ec = EmpiricalCovariance(assume_centered=False).fit(centred)
    return torch.from_numpy(means), torch.from_numpy(ec.precision_)


def maha_dist(pm, means, prec, x):
    _, f = pm.forward_gap(x)
    diff = f.to(means.dtype)[:, None, :] - means[None]
    return ((diff @ prec) * diff).sum(2)


def maha_scores(pm, means, prec, x, noise):
    if noise > 0:
        # Lee et al.'s lib_generation.get_Mahalanobis_score, in pixel space: the closest class's distance,
        # gradient sign with ge(0), one step against it
        xin = x.clone().requires_grad_(True)
        loss = maha_dist(pm, means, prec, xin).min(1)[0].mean()
        g, = torch.autograd.grad(loss, xin)
        sign = (torch.ge(g, 0).to(x.dtype) - 0.5) * 2
        x = x - noise * sign
    with torch.no_grad():
        return maha_dist(pm, means, prec, x).min(1)[0]


def median_torch(x):
    p = torch.cat([x[:, :, :1], x], 2)
    p = torch.cat([p[:, :, :, :1], p], 3)
    H, W = x.shape[2:]
    w = torch.stack([p[:, :, i:i + H, j:j + W] for i in range(2) for j in range(2)], 4)
    return w.sort(4)[0][..., 2]


def squeeze_scores(pm, x, bits):
    with torch.no_grad():
        p = torch.softmax(pm.forward_gap(x)[0], 1)
        lv = 2 ** bits - 1
        outs = [torch.round(x * lv) / lv, median_torch(x)]
        d = torch.stack([(torch.softmax(pm.forward_gap(s)[0], 1) - p).abs().sum(1) for s in outs], 1)
        return d.max(1)[0]


def model_goldens(net, dtype):
    net = net.to(dtype)
    pm = Pixel(net)
    g = torch.Generator().manual_seed(13)
    C = 10
    train_x = torch.rand(120, 1, 8, 8, generator=g)
    train_y = torch.arange(120) % C
    x = torch.rand(12, 1, 8, 8, generator=g)
    flags = torch.tensor([0, 1] * 6, dtype=torch.uint8)
    G = torch.rand(64, C, generator=g)
    tx, xx, GG = train_x.to(dtype), x.to(dtype), G.to(dtype)
    out = {'train_x': train_x, 'train_y': train_y, 'x': x, 'flags': flags, 'G': G}
    with torch.no_grad():
        out['gate_s'] = gate_s(pm, GG, xx)[0]
        out['std_assign'] = assignment(pm, tx, train_y, C)
        out['gate_s_std'] = gate_s(pm, out['std_assign'], xx)[0]
        feats = lr_features(pm, GG, xx)
    out['lr_features'] = torch.from_numpy(feats)
    z = StandardScaler().fit(feats)
    lr = LogisticRegression(solver='newton-cg', tol=1e-12, max_iter=100000).fit(z.transform(feats), flags.numpy())
    out['lr_scores'] = torch.from_numpy(lr.decision_function(z.transform(feats)))
    with torch.no_grad():
        means, prec = gaussians(pm, tx, train_y, C)
    out['maha_means'], out['maha_precision'] = means, prec
    out['maha_scores'] = maha_scores(pm, means, prec, xx, 0)
    out['maha_scores_noise'] = maha_scores(pm, means, prec, xx, NOISE)
    out['squeeze_bits1'] = squeeze_scores(pm, xx, 1)
    out['squeeze_bits5'] = squeeze_scores(pm, xx, 5)
    out['median'] = median_torch(xx)
    return {k: v.detach() for k, v in out.items()}


def main():
    # newton-cg reports 'failed to converge' when tol 1e-12 is below what rounding allows; the gradients are ~1e-9
    warnings.filterwarnings('ignore', message='newton-cg failed to converge')
    with open(WEIGHTS, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    meta = build_info()
    with open(os.path.join(OUT, 'detection.json'), 'w') as f:
        json.dump({'__metadata__': meta, 'metrics': metric_cases(), 'logistic': logistic_cases()}, f)
        f.write('\n')

    w = {k[2:]: v.float() for k, v in load_safetensors(WEIGHTS).items() if k.startswith('w.')}
    net = CifarResNet(20, 1, 10)
    net.load_state_dict(w)
    net.eval()
    out = model_goldens(net, torch.float32)
    # the median filter as scipy.ndimage defines it (csgnet's and this script's torch version must agree)
    ref = scipy.ndimage.median_filter(out['x'].numpy(), size=(1, 1, 2, 2), mode='reflect')
    assert np.array_equal(ref, out['median'].numpy()), 'median_torch differs from scipy.ndimage.median_filter'
    out64 = model_goldens(net, torch.float64)
    gap = {}
    for k, v in out.items():
        if v.is_floating_point() and k not in ('train_x', 'x', 'G'):
            a, b = v.double(), out64[k].double()
            gap[k] = (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)
    print(json.dumps({'relative_f32_gap': gap}, indent=1))
    tensors = {k: (v.float() if k not in ('maha_means', 'maha_precision', 'lr_features', 'lr_scores') else v) for k, v in out.items()}
    meta.update({'weights_file': 'resnet20_parity.safetensors', 'weights_sha256': sha, 'relative_f32_gap': json.dumps(gap),
                 'pixel_mean': str(MEAN), 'pixel_std': str(STD), 'maha_noise': str(NOISE)})
    size = save_safetensors(os.path.join(OUT, 'detection.safetensors'), tensors, meta)
    print(json.dumps({'detection.safetensors': size, 'detection.json': os.path.getsize(os.path.join(OUT, 'detection.json'))}))


if __name__ == '__main__':
    main()
