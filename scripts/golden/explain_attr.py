#!/usr/bin/python3
"""Golden maps for csgnet's input attributions (src/explain/: saliency, ig, smoothgrad, occlusion), produced by
Captum itself (pytorch/captum) on Debian's PyTorch:

    /usr/bin/python3 scripts/golden/explain_attr.py [CAPTUM_DIR]      (after nn_models.py: reuses explain.py's model)

CAPTUM_DIR (or $CAPTUM_SRC) is a folder holding Captum's `captum` package; by default the package is extracted
from the mirror /work/.mirror/pytorch+captum/repo ($CAPTUM_MIRROR) into a temporary folder at run time, and
the commit is recorded. Stubbed import (Debian lacks it): `tqdm` / `tqdm.auto` -> a module whose `tqdm` is a
no-op (Captum imports it only for progress bars, which are off by default).

Model: the parity ResNet-20 of explain.py (1 channel, 10 classes, eval mode), on explain.py's 4 seeded 1x16x16
images and labels; `_rgb` variants run on 4 seeded 3x16x16 images through a fixed channel mix
(sum_c MIX[c] x[:, c] as the 1-channel input), so that the channel reductions are exercised. Captum's raw
[N, C, H, W] attributions are stored, reduced as csgnet documents:
  saliency:   Saliency(abs=True), max over channels
  ig:         IntegratedGradients(method='riemann_trapezoid'), |sum over channels| (Captum's default
              visualization, sign 'absolute_value'); zero baseline, and a blurred one (explain.py's
              torchvision-equivalent Gaussian blur, sigma H / 8, kernel 2 floor(3 sigma) + 1)
  smoothgrad: NoiseTunnel(Saliency).attribute(nt_type='smoothgrad') right after torch.manual_seed(seed),
              max over channels
  occlusion:  Occlusion, window (C, w, w), strides (C, s, s), baseline 0; channel 0 (all channels equal)
Writes test/golden/explain_attr.safetensors (tensors x, x_rgb, mix, labels and one map per key of CASES) with
metadata: per method {"reference", "commit", "produced_by"}, each case's settings, build info and the weights'
SHA-256.
"""
import json
import math
import os
import sys
import types

import torch

from build_info import build_info
from explain import OUT, gaussian_blur, parity_model
from nn_models import save_safetensors
from reference_src import reference_source

torch.set_num_threads(1)
MIRROR = os.environ.get('CAPTUM_MIRROR', '/work/.mirror/pytorch+captum/repo')
MIX = [0.5, -0.3, 0.8]


def captum_source():
    """(folder holding captum, commit)."""
    return reference_source('captum', MIRROR, 'CAPTUM_SRC')


def import_captum():
    src, commit = captum_source()
    for name in ('tqdm', 'tqdm.auto'):
        if name not in sys.modules:
            try:
                __import__(name)
            except ImportError:
                stub = types.ModuleType(name)
                stub.tqdm = lambda *a, **k: None        # progress bars: Captum shows none unless show_progress=True
                sys.modules[name] = stub
    sys.path.insert(0, src)
    import captum.attr
    assert os.path.realpath(captum.attr.__file__).startswith(os.path.realpath(src)), captum.attr.__file__
    return captum.attr, commit


class Mixed(torch.nn.Module):
    """3-channel input -> the 1-channel model through a fixed channel mix."""

    def __init__(self, model, mix):
        super().__init__()
        self.model = model
        self.register_buffer('mix', torch.tensor(mix).view(1, -1, 1, 1))

    def forward(self, x):
        return self.model((x * self.mix).sum(1, keepdim=True))


def blurred(x, sigma):
    side = min(x.shape[2], x.shape[3])
    return gaussian_blur(x, min(2 * math.floor(3 * sigma) + 1, 2 * side - 1), sigma)


def main():
    attr, commit = import_captum()
    model, sha = parity_model()
    g = torch.Generator().manual_seed(10)
    x = torch.randn(4, 1, 16, 16, generator=g)           # explain.py's images and labels
    y = torch.tensor([0, 3, 3, 7])
    x_rgb = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(24))
    mixed = Mixed(model, MIX).eval()
    with torch.no_grad():
        pred = model(x).argmax(1)

    # name -> (input, model, method, settings)
    cases = {
        'saliency': ('x', 'labels', 'saliency', {}),
        'saliency_pred': ('x', 'pred', 'saliency', {}),
        'saliency_rgb': ('x_rgb', 'labels', 'saliency', {}),
        'ig': ('x', 'labels', 'ig', {'steps': 50, 'baseline': 'zero'}),
        'ig_blur_rgb': ('x_rgb', 'labels', 'ig', {'steps': 16, 'baseline': 'blur', 'blur_sigma': 2.0}),
        'smoothgrad': ('x', 'labels', 'smoothgrad', {'samples': 8, 'noise': 0.5, 'seed': 3}),
        'smoothgrad_rgb': ('x_rgb', 'labels', 'smoothgrad', {'samples': 5, 'noise': 1.0, 'seed': 0}),
        'occlusion': ('x', 'labels', 'occlusion', {'window': 5, 'stride': 3}),
        'occlusion_rgb': ('x_rgb', 'labels', 'occlusion', {'window': 4, 'stride': 4}),
    }
    inputs = {'x': x, 'x_rgb': x_rgb}
    targets = {'labels': y, 'pred': pred}
    out = {}
    for key, (inp, tgt, method, s) in cases.items():
        xi, t = inputs[inp], targets[tgt]
        f = mixed if inp == 'x_rgb' else model
        if method == 'saliency':
            a = attr.Saliency(f).attribute(xi, target=t, abs=True)
            m = a.amax(1)
        elif method == 'ig':
            base = torch.zeros_like(xi) if s['baseline'] == 'zero' else blurred(xi, s['blur_sigma'])
            a = attr.IntegratedGradients(f).attribute(xi, baselines=base, target=t, n_steps=s['steps'], method='riemann_trapezoid')
            m = a.sum(1).abs()
        elif method == 'smoothgrad':
            torch.manual_seed(s['seed'])
            a = attr.NoiseTunnel(attr.Saliency(f)).attribute(xi, nt_type='smoothgrad', nt_samples=s['samples'], stdevs=s['noise'], target=t, abs=True)
            m = a.amax(1)
        else:
            c, w, st = xi.shape[1], s['window'], s['stride']
            a = attr.Occlusion(f).attribute(xi, sliding_window_shapes=(c, w, w), strides=(c, st, st), target=t, baselines=0)
            assert torch.equal(a, a[:, :1].expand_as(a)), 'occlusion: every channel gets the same attribution'
            m = a[:, 0]
        out[key] = m.detach().float().contiguous()
    ref = {'reference': 'pytorch/captum', 'commit': commit, 'produced_by': 'reference'}
    meta = {'weights_file': 'resnet20_parity.safetensors', 'weights_sha256': sha, 'mix': json.dumps(MIX),
            'methods': json.dumps({m: ref for m in ('saliency', 'ig', 'smoothgrad', 'occlusion')}),
            'cases': json.dumps({k: {'input': v[0], 'target': v[1], 'method': v[2], **v[3]} for k, v in cases.items()})}
    meta.update(build_info())
    tensors = {'x': x, 'x_rgb': x_rgb, 'labels': y, 'pred': pred, 'mix': torch.tensor(MIX), **out}
    size = save_safetensors(os.path.join(OUT, 'explain_attr.safetensors'), tensors, meta)
    print(json.dumps({'explain_attr.safetensors': size, 'captum_commit': commit}))


if __name__ == '__main__':
    main()
