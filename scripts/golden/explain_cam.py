#!/usr/bin/python3
"""Golden maps for csgnet's Score-CAM, XGrad-CAM, LayerCAM, EigenCAM, HiResCAM and Ablation-CAM (src/explain/),
produced by pytorch-grad-cam's own classes (jacobgil/pytorch-grad-cam) on Debian's python3-torch:

    /usr/bin/python3 scripts/golden/explain_cam.py [PYTORCH_GRAD_CAM_DIR]

The reference is imported from PYTORCH_GRAD_CAM_DIR (or $PYTORCH_GRAD_CAM_DIR): a folder holding the
`pytorch_grad_cam` package; by default it is extracted at run time from the mirror
/work/.mirror/jacobgil+pytorch-grad-cam/repo (git archive HEAD pytorch_grad_cam) into a temporary folder.

Model and images: those of explain.py (the ResNet-20 of resnet20_parity.safetensors, eval mode, 4 seeded
1x16x16 images, ground-truth targets as ClassifierOutputTarget). Each method runs through its class's own
__call__ (forward hooks, backward, get_cam_weights / get_cam_image, BaseCAM's np.maximum(cam, 0)) at two
target layers: model.layer3 (csgnet's default, the last feature map, 4x4) and model.layer2[1] ('layer2.1', 8x8).

The one change: pytorch-grad-cam's scale_cam_image (per-image min-max normalization, then cv2.resize) is
replaced in base_cam's namespace by a raw bilinear upsampling (torch, align_corners=False), which is what
csgnet returns (raw maps, src/explain/base.ts), so the maps are compared before any normalization: the
golden is pytorch-grad-cam's own cam from its internals, upsampled as csgnet does. (Normalizing after
cv2.resize is not the same as normalizing csgnet's upsampled map: the extremes move with the resize.)

Stubbed imports (not installed on Debian, never reached by these methods): cv2 (every function raises,
so a cv2 call would fail loudly), tqdm (tqdm.tqdm returns its iterable), ttach (Compose/HorizontalFlip/
Multiply do nothing: only aug_smooth uses them), torchvision and torchvision.transforms (names only,
imported by model_targets and utils.image).

EigenCAM: a singular vector's sign is LAPACK's choice; csgnet fixes sum_k v1[k] >= 0 (src/explain/eigencam.ts).
Stored besides the reference's map: its pre-ReLU projection's ReLU'd negation (eigencam_flipped*) and
eigencam_sign* (+1 where csgnet's convention keeps the reference's sign, -1 where it flips it).

Writes test/golden/explain_cam.safetensors: x, labels, <method> and <method>_layer2_1 [N, 16, 16] for
scorecam, xgradcam, layercam, eigencam, hirescam, ablationcam (+ eigencam_flipped*, eigencam_sign*).
Metadata: per method {"reference", "commit", "produced_by"}, the layers, the weights' SHA-256, build info.
"""
import json
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

from build_info import build_info
from explain import OUT, parity_model, upsample
from nn_models import save_safetensors
from reference_src import reference_source

torch.set_num_threads(1)
MIRROR = '/work/.mirror/jacobgil+pytorch-grad-cam/repo'
METHODS = ['scorecam', 'xgradcam', 'layercam', 'eigencam', 'hirescam', 'ablationcam']


def stub_modules():
    def refuse(name):
        def f(*a, **k):
            raise RuntimeError(f'cv2.{name} called: the golden must not depend on the cv2 stub')
        return f
    cv2 = types.ModuleType('cv2')
    cv2.__getattr__ = lambda name: refuse(name)
    tqdm = types.ModuleType('tqdm')
    tqdm.tqdm = lambda it, *a, **k: it
    tta = types.ModuleType('ttach')
    class Nop:
        def __init__(self, *a, **k):
            pass
    tta.Compose, tta.HorizontalFlip, tta.Multiply = Nop, Nop, Nop
    tv = types.ModuleType('torchvision')
    tvt = types.ModuleType('torchvision.transforms')
    tvt.Compose = tvt.Normalize = tvt.ToTensor = Nop
    tv.transforms = tvt
    sys.modules.update({'cv2': cv2, 'tqdm': tqdm, 'ttach': tta, 'torchvision': tv, 'torchvision.transforms': tvt})


def reference_dir():
    """(folder holding pytorch_grad_cam, commit)."""
    return reference_source('pytorch_grad_cam', MIRROR, 'PYTORCH_GRAD_CAM_DIR')


def raw_upsample(cam, target_size=None):
    """Replaces scale_cam_image: no min-max normalization; bilinear (align_corners=False) to (width, height)."""
    if target_size is None:
        return np.float32(cam)
    w, h = target_size
    return upsample(torch.from_numpy(np.float32(cam))[:, None], (h, w))[:, 0].numpy()


def main():
    stub_modules()
    ref, commit = reference_dir()
    sys.path.insert(0, ref)
    import pytorch_grad_cam as pgc
    import pytorch_grad_cam.base_cam as base_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    base_cam.scale_cam_image = raw_upsample

    model, sha = parity_model()
    g = torch.Generator().manual_seed(10)              # explain.py's images and labels
    x = torch.randn(4, 1, 16, 16, generator=g)
    y = torch.tensor([0, 3, 3, 7])
    targets = [ClassifierOutputTarget(int(c)) for c in y]

    classes = {'scorecam': pgc.ScoreCAM, 'xgradcam': pgc.XGradCAM, 'layercam': pgc.LayerCAM, 'eigencam': pgc.EigenCAM,
               'hirescam': pgc.HiResCAM, 'ablationcam': pgc.AblationCAM}
    layers = {'': model.layer3, '_layer2_1': model.layer2[1]}
    out = {'x': x, 'labels': y}
    for suffix, layer in layers.items():
        for name, cls in classes.items():
            with cls(model=model, target_layers=[layer]) as cam:
                projections = []
                if name == 'eigencam':          # keep the pre-ReLU projection from the reference's internals
                    inner = cam.get_cam_image
                    cam.get_cam_image = lambda *a, **k: projections.append(inner(*a, **k)) or projections[-1]
                out[name + suffix] = torch.from_numpy(np.float32(cam(input_tensor=x, targets=targets)))
                model.zero_grad(set_to_none=True)
            if name == 'eigencam':
                p = torch.from_numpy(projections[0])                                  # [N, h, w]
                out['eigencam_flipped' + suffix] = upsample(F.relu(-p)[:, None], x.shape[2:])[:, 0]
                with torch.no_grad():
                    acts = []
                    h = layer.register_forward_hook(lambda m, i, o: acts.append(o.detach().clone()))
                    model(x)
                    h.remove()
                a = acts[0].double().flatten(2)                                        # [N, K, hw]
                centred_sum = (a - a.mean(2, keepdim=True)).sum(1)                     # X 1 over positions
                out['eigencam_sign' + suffix] = torch.where((p.double().flatten(1) * centred_sum).sum(1) < 0, -1.0, 1.0).float()
    for k, v in out.items():
        if k.startswith('eigencam_sign'):
            print(k, v.tolist())
    source = {'reference': 'jacobgil/pytorch-grad-cam', 'commit': commit, 'produced_by': 'reference'}
    meta = {'weights_file': 'resnet20_parity.safetensors', 'weights_sha256': sha,
            'layers': json.dumps({'': 'layer3 (the default: the last feature map)', '_layer2_1': 'layer2.1'}),
            'methods': json.dumps({m: source for m in METHODS}),
            'scale_cam_image': 'replaced by raw bilinear upsampling (align_corners=False), no min-max normalization'}
    meta.update(build_info())
    size = save_safetensors(os.path.join(OUT, 'explain_cam.safetensors'), out, meta)
    print(json.dumps({'explain_cam.safetensors': size}))


if __name__ == '__main__':
    main()
