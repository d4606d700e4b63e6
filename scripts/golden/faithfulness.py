#!/usr/bin/python3
"""Golden faithfulness metrics for csgnet (src/metrics/faithfulness/), with Debian's python3-torch 1.13:

    /usr/bin/python3 scripts/golden/faithfulness.py [PYTORCH_GRAD_CAM_DIR]

The reference code produces the golden where it ran:
  - ROAD (MoRF, LeRF, combined) and the confidence metrics (DropInConfidence, IncreaseInConfidence) come from
    pytorch-grad-cam's own metric classes (pytorch_grad_cam/metrics/road.py, cam_mult_image.py), imported from
    PYTORCH_GRAD_CAM_DIR (or $PYTORCH_GRAD_CAM; default: the mirror extracted into a temporary folder);
  - deletion and insertion AUC re-state RISE's CausalMetric (github.com/eclique/RISE, evaluation.py; no mirror
    here), recorded as produced_by "reimplementation".
Model: the ResNet-20 of resnet20_parity.safetensors (as scripts/golden/explain.py), eval mode, on 6 seeded
1x16x16 images, with FIXED maps stored in the golden (random continuous maps, and ReLU'd ones with ties), so
the metrics are tested apart from any explainer. Scores are softmax probabilities of the target class
(pytorch-grad-cam's ClassifierOutputSoftmaxTarget, RISE's model + Softmax).
ROAD's imputer adds noise 0.01 * randn after its linear solve; the golden sets the noise to 0 (deterministic;
the solve is what is compared), csgnet's default keeps 0.01.
Writes test/golden/faithfulness.safetensors.
"""
import json
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from build_info import build_info
from explain import parity_model
from nn_models import save_safetensors
from reference_src import reference_source

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')
GRADCAM_REPO, GRADCAM_COMMIT = 'jacobgil/pytorch-grad-cam', '084273b3f30b54ad0c64cf8020a4337d979a66e0'
MIRROR = '/work/.mirror/jacobgil+pytorch-grad-cam/repo'
PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90]


def gradcam_dir():
    return reference_source('pytorch_grad_cam', MIRROR, 'PYTORCH_GRAD_CAM', GRADCAM_COMMIT)[0]


def import_metrics(root):
    """pytorch-grad-cam's metric modules, without its package __init__ (which imports every CAM and their
    optional dependencies). Stubs: `cv2` (an empty module: perturbation_confidence.py imports it only for
    the 'auto' Otsu threshold, unused here) and `torchvision` (an empty module: model_targets.py imports it
    only for its detection targets, unused here); `pytorch_grad_cam` and `pytorch_grad_cam.utils` are empty
    packages over the reference folder (their __init__ files import every CAM and the image helpers, with
    cv2, torchvision.transforms and matplotlib), so that the submodules used load from there unchanged."""
    sys.modules.setdefault('cv2', types.ModuleType('cv2'))
    sys.modules.setdefault('torchvision', types.ModuleType('torchvision'))
    for name in ('pytorch_grad_cam', 'pytorch_grad_cam.utils'):
        pkg = types.ModuleType(name)
        pkg.__path__ = [os.path.join(root, *name.split('.'))]
        sys.modules[name] = pkg
    import pytorch_grad_cam.metrics.road as road
    import pytorch_grad_cam.metrics.cam_mult_image as cmi
    import pytorch_grad_cam.utils.model_targets as targets
    return road, cmi, targets


def scale_cam_image(cams):
    """pytorch-grad-cam utils/image.py scale_cam_image without the resize (float32 throughout, as there)."""
    out = []
    for img in cams:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        out.append(img)
    return np.float32(out)


# ---- RISE (Petsiuk et al. 2018), evaluation.py re-stated --------------------------------------------------
def gkern(klen, nsig, channels):
    """RISE's blur kernel: gaussian_filter of an 11x11 dirac (sigma 5, scipy's default reflect boundary), one
    per channel on the diagonal of a [C, C, k, k] kernel."""
    inp = np.zeros((klen, klen))
    inp[klen // 2, klen // 2] = 1
    k = gaussian_filter(inp, nsig)
    kern = np.zeros((channels, channels, klen, klen))
    for c in range(channels):
        kern[c, c] = k
    return torch.from_numpy(kern.astype('float32'))


def auc(arr):
    """RISE's normalized area under the curve (trapezoid over steps 0..n, x scaled to [0, 1])."""
    return (arr.sum(0) - arr[0] / 2 - arr[-1] / 2) / (arr.shape[0] - 1)


def causal_metric(model, mode, step, substrate_fn, img_batch, exp_batch, target):
    """CausalMetric.evaluate for one batch, scores of `target` (RISE: the top class) as softmax probabilities.
    Pixels in order of decreasing saliency: np.flip(np.argsort(...)) as RISE; argsort kind='stable' so ties
    have one defined order (RISE's default quicksort gives the same order when there are no ties)."""
    n, c, h, w = img_batch.shape
    hw = h * w
    n_steps = (hw + step - 1) // step
    scores = np.empty((n_steps + 1, n))
    salient_order = np.flip(np.argsort(exp_batch.reshape(-1, hw), axis=1, kind='stable'), axis=-1)
    r = np.arange(n).reshape(n, 1)
    substrate = substrate_fn(img_batch)
    if mode == 'del':
        start, finish = img_batch.clone(), substrate
    else:
        start, finish = substrate, img_batch.clone()
    for i in range(n_steps + 1):
        with torch.no_grad():
            preds = torch.softmax(model(start), 1).numpy()[range(n), target]
        scores[i] = preds
        coords = salient_order[:, step * i:step * (i + 1)]
        start.numpy().reshape(n, c, hw)[r, :, coords] = finish.numpy().reshape(n, c, hw)[r, :, coords]
    return scores


def main():
    road, cmi, mt = import_metrics(gradcam_dir())
    model, sha = parity_model()
    g = torch.Generator().manual_seed(24)
    N, H, W = 6, 16, 16
    x = torch.randn(N, 1, H, W, generator=g)
    y = torch.tensor([6, 3, 6, 9, 1, 5])   # 6, 9 and 5 lose confidence when x is multiplied by a map, 3 and 1 gain
    maps = torch.rand(N, H, W, generator=g)                        # continuous: no ties
    maps_ties = F.relu(torch.randn(N, H, W, generator=g)).round(decimals=1)   # many ties (zeros and 0.1 steps)
    targets = [mt.ClassifierOutputSoftmaxTarget(int(c)) for c in y]
    out = {'x': x, 'labels': y, 'maps': maps, 'maps_ties': maps_ties}
    with torch.no_grad():
        out['probs'] = torch.softmax(model(x), 1)

    # ROAD with the imputer's noise set to 0: road.py looks NoisyLinearImputer up by name when a metric is built
    # (and calls its static setup_sparse_system through that name, hence a subclass).
    Imputer = road.NoisyLinearImputer
    class Noiseless(Imputer):
        def __init__(self):
            super().__init__(noise=0.0)
    road.NoisyLinearImputer = Noiseless
    for key in ('maps', 'maps_ties'):
        cams = out[key].numpy()
        morf = road.ROADMostRelevantFirstAverage(PERCENTILES)(x, cams, targets, model)
        lerf = road.ROADLeastRelevantFirstAverage(PERCENTILES)(x, cams, targets, model)
        comb = road.ROADCombined(PERCENTILES)(x, cams, targets, model)
        out[f'road_morf_{key}'] = torch.from_numpy(np.float32(morf))
        out[f'road_lerf_{key}'] = torch.from_numpy(np.float32(lerf))
        out[f'road_combined_{key}'] = torch.from_numpy(np.float32(comb))
        # one percentile alone, and the imputed image, to localize any difference
        m70 = road.ROADMostRelevantFirst(70)
        r70, imputed = m70(x, cams, targets, model, return_visualization=True)
        out[f'road_morf70_{key}'] = torch.from_numpy(np.float32(r70))
        out[f'road_morf70_imputed_{key}'] = imputed.float()
    road.NoisyLinearImputer = Imputer

    # Confidence (pytorch-grad-cam cam_mult_image.py): on min-max scaled maps, as its CAMs come.
    for key in ('maps', 'maps_ties'):
        scaled = scale_cam_image(out[key].numpy())
        out[f'drop_{key}'] = torch.from_numpy(np.float32(cmi.DropInConfidence()(x, scaled, targets, model)))
        out[f'increase_{key}'] = torch.from_numpy(np.float32(cmi.IncreaseInConfidence()(x, scaled, targets, model)))
        out[f'after_mult_{key}'] = torch.from_numpy(np.float32(cmi.CamMultImageConfidenceChange()(x, scaled, targets, model, return_diff=False)))

    # Deletion (zero = the data mean of normalized inputs: RISE's torch.zeros_like) and insertion (RISE's blur).
    kern = gkern(11, 5, 1)
    blur = lambda t: F.conv2d(t, kern, padding=11 // 2)
    zero = torch.zeros_like
    step = W  # RISE: step 224 at 224 x 224, one image row of pixels per step
    for key in ('maps', 'maps_ties'):
        e = out[key].numpy()
        for mode, sub, name in (('del', zero, 'deletion_mean'), ('ins', blur, 'insertion_blur'), ('del', blur, 'deletion_blur'), ('ins', zero, 'insertion_mean')):
            curve = causal_metric(model, mode, step, sub, x.clone(), e, y.numpy())
            out[f'{name}_curve_{key}'] = torch.from_numpy(curve.T.copy()).float()      # [N, steps + 1]
            out[f'{name}_auc_{key}'] = torch.from_numpy(auc(curve)).double()          # [N]
        # 4 steps of 64 pixels: a step count other than one row
        curve = causal_metric(model, 'del', 64, zero, x.clone(), e, y.numpy())
        out[f'deletion_mean_auc4_{key}'] = torch.from_numpy(auc(curve)).double()
    out['rise_kernel'] = kern[0, 0]

    ref = {'reference': GRADCAM_REPO, 'commit': GRADCAM_COMMIT, 'produced_by': 'reference'}
    rise = {'reference': 'eclique/RISE', 'commit': None, 'produced_by': 'reimplementation'}
    meta = {'weights_file': 'resnet20_parity.safetensors', 'weights_sha256': sha, 'percentiles': json.dumps(PERCENTILES),
            'methods': json.dumps({'road': ref, 'drop_in_confidence': ref, 'increase_in_confidence': ref,
                                   'deletion': rise, 'insertion': rise}),
            'road_noise': '0', 'score': 'softmax probability of the label', 'rise_step': str(step)}
    meta.update(build_info())
    size = save_safetensors(os.path.join(OUT, 'faithfulness.safetensors'), out, meta)
    print(json.dumps({'faithfulness.safetensors': size}))


if __name__ == '__main__':
    main()
