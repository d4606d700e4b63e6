#!/usr/bin/python3
"""Golden adversarial examples for csgnet's DeepFool, APGD (CE, DLR, L2, targeted), Square and AutoAttack
(src/attack/), produced by torchattacks itself (Harry24k/adversarial-attacks-pytorch) on Debian's python3-torch:

    /usr/bin/python3 scripts/golden/attacks_extra.py [TORCHATTACKS_DIR]

TORCHATTACKS_DIR (or $CSGNET_TORCHATTACKS) is a checkout holding the torchattacks package; by default the
pinned commit is extracted from the mirror (/work/.mirror/Harry24k+adversarial-attacks-pytorch/repo, or
$CSGNET_TORCHATTACKS_MIRROR) into a temporary folder. torchattacks imports only torch and numpy: no stubs.

The model and images are scripts/golden/attacks.py's (the seeded, rescaled LeNet in pixel space, 8 seeded
1x16x16 images whose labels are the model's own predictions). APGD, APGDT and Square seed torch's global
RNG at every call (torch.random.manual_seed(seed)); csgnet seeds libtorch's CPU generator the same way and
draws the same numbers, so every attack here is compared elementwise, random ones included.
Writes test/golden/attacks_extra.safetensors:
  w.*, x, labels                 the model's state dict, the images, their labels
  deepfool, deepfool_steps3      torchattacks.DeepFool (defaults: 50 steps, overshoot 0.02) and with 3 steps
  apgd_ce, apgd_dlr              torchattacks.APGD (Linf, loss ce / dlr, apgd_eps, apgd_steps, seed 0)
  apgd_ce_l2                     torchattacks.APGD (L2, apgd_l2_eps)
  apgdt                          torchattacks.APGDT (Linf, apgd_eps, apgd_steps, n_classes 10)
  square                         torchattacks.Square (Linf, square_eps, square_queries, p_init 0.8)
  autoattack_subset              torchattacks' MultiAttack([APGD ce, APGDT, Square]) with AutoAttack's standard
                                 arguments (autoattack_eps; 10 steps; seed 0) but autoattack_queries queries for
                                 Square: csgnet's autoattack with nQueries = autoattack_queries
  autoattack_full                torchattacks.AutoAttack(version='standard', seed=0), FAB-T included (for the record)
Metadata: settings (JSON), per-method provenance under `provenance` (reference, commit, produced_by), and the
success / Linf / L2 per image of every output under `report`.
"""
import json
import os
import sys

import torch

from attacks import MEAN, STD, images, make_model
from build_info import build_info
from nn_models import save_safetensors
from reference_src import reference_source

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')
REFERENCE = 'Harry24k/adversarial-attacks-pytorch'
COMMIT = '23620a694a3660e4f194c3e4d28992bced7785a1'
MIRROR = os.environ.get('CSGNET_TORCHATTACKS_MIRROR', '/work/.mirror/Harry24k+adversarial-attacks-pytorch/repo')
# autoattack_queries: the Square budget of the subset (AutoAttack's own 5000 queries on the images nothing fools
# take minutes in a test; autoattack_full keeps 5000 and shows they change nothing here)
S = dict(apgd_eps=0.01, apgd_steps=20, apgd_l2_eps=0.3, square_eps=0.02, square_queries=300, autoattack_eps=0.01,
         autoattack_queries=200, deepfool_steps=50, deepfool_overshoot=0.02)


def torchattacks_dir():
    return reference_source('torchattacks', MIRROR, 'CSGNET_TORCHATTACKS', COMMIT)[0]


def main():
    sys.path.insert(0, torchattacks_dir())
    import torchattacks
    from torchattacks.wrappers.multiattack import MultiAttack

    net, model = make_model()
    g = torch.Generator().manual_seed(11)
    x = images(8, g)
    with torch.no_grad():
        labels = model(x).argmax(1)
    out = {'x': x, 'labels': labels}
    out['deepfool'] = torchattacks.DeepFool(model, steps=S['deepfool_steps'], overshoot=S['deepfool_overshoot'])(x, labels)
    out['deepfool_steps3'] = torchattacks.DeepFool(model, steps=3, overshoot=S['deepfool_overshoot'])(x, labels)
    out['apgd_ce'] = torchattacks.APGD(model, norm='Linf', eps=S['apgd_eps'], steps=S['apgd_steps'], seed=0, loss='ce')(x, labels)
    out['apgd_dlr'] = torchattacks.APGD(model, norm='Linf', eps=S['apgd_eps'], steps=S['apgd_steps'], seed=0, loss='dlr')(x, labels)
    out['apgd_ce_l2'] = torchattacks.APGD(model, norm='L2', eps=S['apgd_l2_eps'], steps=S['apgd_steps'], seed=0, loss='ce')(x, labels)
    out['apgdt'] = torchattacks.APGDT(model, norm='Linf', eps=S['apgd_eps'], steps=S['apgd_steps'], seed=0, n_classes=10)(x, labels)
    out['square'] = torchattacks.Square(model, norm='Linf', eps=S['square_eps'], n_queries=S['square_queries'], seed=0)(x, labels)
    e = S['autoattack_eps']
    # AutoAttack(version='standard') without FAB: its APGD, APGDT and Square with the arguments it passes them
    subset = MultiAttack([
        torchattacks.APGD(model, eps=e, norm='Linf', seed=0, loss='ce', n_restarts=1),
        torchattacks.APGDT(model, eps=e, norm='Linf', seed=0, n_classes=10, n_restarts=1),
        torchattacks.Square(model, eps=e, norm='Linf', seed=0, n_queries=S['autoattack_queries'], n_restarts=1),
    ])
    out['autoattack_subset'] = subset(x, labels)
    out['autoattack_full'] = torchattacks.AutoAttack(model, norm='Linf', eps=e, version='standard', n_classes=10, seed=0)(x, labels)

    report = {}
    with torch.no_grad():
        for k, v in out.items():
            if k in ('x', 'labels'):
                continue
            d = (v - x).flatten(1)
            report[k] = {'success': (model(v).argmax(1) != labels).int().tolist(), 'linf': d.abs().amax(1).tolist(), 'l2': d.norm(dim=1).tolist()}
    print(json.dumps({k: (sum(v['success']), round(sum(v['l2']) / 8, 4)) for k, v in report.items()}))
    prov = {k: {'reference': REFERENCE, 'commit': COMMIT, 'produced_by': 'reference', 'version': torchattacks.__version__} for k in report}
    tensors = {**{'w.' + k: v for k, v in net.state_dict().items()}, **out}
    meta = {'settings': json.dumps(S), 'mean': str(MEAN), 'std': str(STD), 'model': json.dumps({'name': 'lenet', 'filters': [8, 16]}),
            'report': json.dumps(report), 'provenance': json.dumps(prov), 'reference': REFERENCE, 'commit': COMMIT}
    meta.update(build_info())
    size = save_safetensors(os.path.join(OUT, 'attacks_extra.safetensors'), tensors, meta)
    print(json.dumps({'attacks_extra.safetensors': size}))


if __name__ == '__main__':
    main()
