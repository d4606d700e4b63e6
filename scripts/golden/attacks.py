#!/usr/bin/python3
"""Golden adversarial examples for csgnet's attacks (src/attack/), computed with PyTorch (Debian's python3-torch 1.13):

    /usr/bin/python3 scripts/golden/attacks.py

The attacks are torchattacks' (FGSM, BIM, PGD, PGDL2, CW), re-stated below line for line (torchattacks is
not packaged by Debian; attacks_extra.py now imports the real torchattacks from the mirror, and this
re-statement could move to it the same way) in pixel space: the model sees (x - mean) / std, as csgnet's PixelModel. The model
is a seeded LeNet with filters (8, 16) (rescaled: make_model), 1 input channel, 10 classes, in eval mode, on 8 seeded 1x16x16
images with MNIST-like saturated pixels (exact 0s and 1s: they exercise the clipping and CW's infinite
tanh-space coordinates). Labels are the model's own clean predictions (every image is correctly
classified); targets are (label + 1) mod 10. Writes test/golden/attacks.safetensors:
  w.*                          the LeNet's state dict
  x, labels, targets
  fgsm, fgsm_targeted          FGSM at eps fgsm_eps
  bim1, bim                    BIM one step / all bim_steps steps
  pgd_start                    the stored PGD random start noise (uniform in [-eps, eps])
  pgd1, pgd                    PGD from pgd_start: one step / all pgd_steps steps
  pgd_targeted_start, pgd_targeted  targeted PGD (a larger eps) from its own stored start
  pgdl2_start, pgdl2_1, pgdl2  PGD-L2 from its stored start (already scaled into the ball): one step / all steps
  cw, cw_targeted              CW after cw_steps Adam steps (cw_c, cw_kappa, cw_lr)
  cw_abort                     CW with cw_abort_lr, stopped early by torchattacks' abort (cw_abort_ran steps run)
  cw_stop                      CW with kappa cw_stop_kappa over cw_stop_steps steps: the cost goes negative and
                               torchattacks' `cost > prev` stops it after cw_stop_ran steps (Carlini's `cost > 0.9999 prev`,
                               csgnet's rule before, would stop at cw_stop_old_ran with another result)
cw_targeted exercises torchattacks' true-class term max(Z_t, 0) (targets with negative logits): the plain Z_t
term, csgnet's before, gives another result (asserted below).
Settings go into the metadata (JSON under `settings`).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from build_info import build_info
from nn_models import LeNet, save_safetensors

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')
MEAN, STD = 0.1307, 0.3081
# Budgets where some images resist and some don't (the model is fragile: logit spread ~4, see make_model)
S = dict(fgsm_eps=0.01, bim_eps=0.01, bim_alpha=0.002, bim_steps=10, pgd_eps=0.01, pgd_alpha=0.001, pgd_steps=20,
         pgd_targeted_eps=0.03, pgd_targeted_alpha=0.003, pgdl2_eps=0.1, pgdl2_alpha=0.02, pgdl2_steps=10,
         cw_c=1.0, cw_kappa=0.0, cw_lr=0.01, cw_steps=10, cw_abort_lr=0.1, cw_abort_steps=30, cw_stop_kappa=1.0, cw_stop_steps=200)


class Pixel(nn.Module):
    """csgnet's PixelModel: normalization inside, [0, 1] images outside."""
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model((x - MEAN) / STD)


def cost_of(model, x, y, targeted):
    ce = nn.CrossEntropyLoss()(model(x), y)
    return -ce if targeted else ce


def fgsm(model, images, labels, eps, targeted=False):
    images = images.clone().detach().requires_grad_(True)
    grad = torch.autograd.grad(cost_of(model, images, labels, targeted), images)[0]
    return torch.clamp(images + eps * grad.sign(), min=0, max=1).detach()


def bim(model, images, labels, eps, alpha, steps, targeted=False):
    ori_images = images.clone().detach()
    images = images.clone().detach()
    for _ in range(steps):
        images.requires_grad = True
        grad = torch.autograd.grad(cost_of(model, images, labels, targeted), images)[0]
        adv_images = images + alpha * grad.sign()
        a = torch.clamp(ori_images - eps, min=0)
        b = (adv_images >= a).float() * adv_images + (adv_images < a).float() * a
        c = (b > ori_images + eps).float() * (ori_images + eps) + (b <= ori_images + eps).float() * b
        images = torch.clamp(c, max=1).detach()
    return images


def pgd(model, images, labels, eps, alpha, steps, noise, targeted=False):
    adv_images = torch.clamp(images + noise, min=0, max=1).detach()    # noise: torch.empty_like(x).uniform_(-eps, eps)
    for _ in range(steps):
        adv_images.requires_grad = True
        grad = torch.autograd.grad(cost_of(model, adv_images, labels, targeted), adv_images)[0]
        adv_images = adv_images.detach() + alpha * grad.sign()
        delta = torch.clamp(adv_images - images, min=-eps, max=eps)
        adv_images = torch.clamp(images + delta, min=0, max=1).detach()
    return adv_images


def pgdl2_start(images, eps, g):
    delta = torch.empty_like(images).normal_(generator=g)
    n = delta.view(images.size(0), -1).norm(p=2, dim=1).view(images.size(0), 1, 1, 1)
    r = torch.zeros_like(n).uniform_(0, 1, generator=g)
    delta *= r / n * eps
    return delta


def pgdl2(model, images, labels, eps, alpha, steps, delta0, targeted=False):
    batch_size = len(images)
    adv_images = torch.clamp(images + delta0, min=0, max=1).detach()
    for _ in range(steps):
        adv_images.requires_grad = True
        grad = torch.autograd.grad(cost_of(model, adv_images, labels, targeted), adv_images)[0]
        grad_norms = torch.norm(grad.view(batch_size, -1), p=2, dim=1) + 1e-10
        grad = grad / grad_norms.view(batch_size, 1, 1, 1)
        adv_images = adv_images.detach() + alpha * grad
        delta = adv_images - images
        delta_norms = torch.norm(delta.view(batch_size, -1), p=2, dim=1)
        factor = eps / delta_norms
        factor = torch.min(factor, torch.ones_like(delta_norms))
        delta = delta * factor.view(-1, 1, 1, 1)
        adv_images = torch.clamp(images + delta, min=0, max=1).detach()
    return adv_images


def cw(model, images, labels, c, kappa, steps, lr, targeted=False, old=False):
    """torchattacks 3.5.1's CW.forward and CW.f (torchattacks/attacks/cw.py, unchanged since commit 27e658c; Harry24k/
    adversarial-attacks-pytorch), targets passed as labels. old=True: the rules csgnet had before, for the asserts only:
    the true-class logit itself (torchattacks < 3.4's masked_select) and Carlini's abort `cost > 0.9999 prev`."""
    def tanh_space(x):
        return 1 / 2 * (torch.tanh(x) + 1)

    def atanh(x):
        return 0.5 * torch.log((1 + x) / (1 - x))

    def f(outputs, labels):
        one_hot_labels = torch.eye(outputs.shape[1])[labels]
        other = torch.max((1 - one_hot_labels) * outputs, dim=1)[0]
        # torchattacks: the max over the one-hot row, i.e. max(Z_y, 0)
        real = torch.sum(one_hot_labels * outputs, dim=1) if old else torch.max(one_hot_labels * outputs, dim=1)[0]
        return torch.clamp((other - real) if targeted else (real - other), min=-kappa)

    w = atanh(torch.clamp(images * 2 - 1, min=-1, max=1)).detach()
    w.requires_grad = True
    best_adv_images = images.clone().detach()
    best_L2 = 1e10 * torch.ones((len(images)))
    prev_cost = 1e10
    optimizer = torch.optim.Adam([w], lr=lr)
    ran = 0
    for step in range(steps):
        ran += 1
        adv_images = tanh_space(w)
        current_L2 = nn.MSELoss(reduction='none')(nn.Flatten()(adv_images), nn.Flatten()(images)).sum(dim=1)
        outputs = model(adv_images)
        cost = current_L2.sum() + c * f(outputs, labels).sum()
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        pre = torch.argmax(outputs.detach(), 1)
        condition = ((pre == labels) if targeted else (pre != labels)).float()
        mask = condition * (best_L2 > current_L2.detach())
        best_L2 = mask * current_L2.detach() + (1 - mask) * best_L2
        mask = mask.view([-1] + [1] * (images.dim() - 1))
        best_adv_images = mask * adv_images.detach() + (1 - mask) * best_adv_images
        if step % max(steps // 10, 1) == 0:
            if cost.item() > (prev_cost * 0.9999 if old else prev_cost):
                break
            prev_cost = cost.item()
    return best_adv_images, ran


def images(n, g):
    x = torch.rand(n, 1, 16, 16, generator=g)
    return torch.where(x < 0.3, torch.zeros_like(x), torch.where(x > 0.85, torch.ones_like(x), x))


def make_model():
    """A seeded LeNet rescaled so that random images get varied, confident predictions: fc bias centres the
    mean logits of 512 other random images, weights scaled to a logit spread of about 4."""
    torch.manual_seed(0)
    net = LeNet(1, 10, (8, 16)).eval()
    model = Pixel(net).eval()
    with torch.no_grad():
        net.conv1.weight.mul_(3)
        net.conv2.weight.mul_(3)
        ref = model(images(512, torch.Generator().manual_seed(5)))
        net.fc.bias.sub_(ref.mean(0))
        scale = ref.std(0).mean() / 4
        net.fc.weight.div_(scale)
        net.fc.bias.div_(scale)
    for p in net.parameters():
        p.requires_grad_(False)
    return net, model


def main():
    net, model = make_model()
    g = torch.Generator().manual_seed(11)
    x = images(8, g)
    with torch.no_grad():
        logits = model(x)
    labels = logits.argmax(1)
    targets = (labels + 1) % 10
    out = {'x': x, 'labels': labels, 'targets': targets, 'logits': logits}
    out['fgsm'] = fgsm(model, x, labels, S['fgsm_eps'])
    out['fgsm_targeted'] = fgsm(model, x, targets, S['fgsm_eps'], targeted=True)
    out['bim1'] = bim(model, x, labels, S['bim_eps'], S['bim_alpha'], 1)
    out['bim'] = bim(model, x, labels, S['bim_eps'], S['bim_alpha'], S['bim_steps'])
    out['pgd_start'] = torch.empty_like(x).uniform_(-S['pgd_eps'], S['pgd_eps'], generator=g)
    out['pgd1'] = pgd(model, x, labels, S['pgd_eps'], S['pgd_alpha'], 1, out['pgd_start'])
    out['pgd'] = pgd(model, x, labels, S['pgd_eps'], S['pgd_alpha'], S['pgd_steps'], out['pgd_start'])
    out['pgd_targeted_start'] = torch.empty_like(x).uniform_(-S['pgd_targeted_eps'], S['pgd_targeted_eps'], generator=g)
    out['pgd_targeted'] = pgd(model, x, targets, S['pgd_targeted_eps'], S['pgd_targeted_alpha'], S['pgd_steps'], out['pgd_targeted_start'], targeted=True)
    out['pgdl2_start'] = pgdl2_start(x, S['pgdl2_eps'], g)
    out['pgdl2_1'] = pgdl2(model, x, labels, S['pgdl2_eps'], S['pgdl2_alpha'], 1, out['pgdl2_start'])
    out['pgdl2'] = pgdl2(model, x, labels, S['pgdl2_eps'], S['pgdl2_alpha'], S['pgdl2_steps'], out['pgdl2_start'])
    out['cw'], _ = cw(model, x, labels, S['cw_c'], S['cw_kappa'], S['cw_steps'], S['cw_lr'])
    out['cw_targeted'], _ = cw(model, x, targets, S['cw_c'], S['cw_kappa'], S['cw_steps'], S['cw_lr'], targeted=True)
    # the true-class term fires: some targets' logits are negative, where max(Z_t, 0) has no gradient
    old_targeted, _ = cw(model, x, targets, S['cw_c'], S['cw_kappa'], S['cw_steps'], S['cw_lr'], targeted=True, old=True)
    assert (old_targeted - out['cw_targeted']).abs().max() > 1e-2
    # a large lr makes the cost oscillate: the early abort stops the run (after cw_abort_ran of cw_abort_steps steps)
    out['cw_abort'], ran = cw(model, x, labels, S['cw_c'], S['cw_kappa'], S['cw_abort_steps'], S['cw_abort_lr'])
    assert ran < S['cw_abort_steps'], ran
    S['cw_abort_ran'] = ran
    # kappa > 0 lets the cost go negative, where `cost > 0.9999 prev` is laxer than `cost > prev`: the rules stop apart
    out['cw_stop'], ran = cw(model, x, labels, S['cw_c'], S['cw_stop_kappa'], S['cw_stop_steps'], S['cw_lr'])
    old_stop, old_ran = cw(model, x, labels, S['cw_c'], S['cw_stop_kappa'], S['cw_stop_steps'], S['cw_lr'], old=True)
    assert ran < S['cw_stop_steps'] and old_ran != ran and (old_stop - out['cw_stop']).abs().max() > 1e-2, (ran, old_ran)
    S['cw_stop_ran'], S['cw_stop_old_ran'] = ran, old_ran
    report = {}
    with torch.no_grad():
        for k in ('fgsm', 'fgsm_targeted', 'bim', 'pgd', 'pgd_targeted', 'pgdl2', 'cw', 'cw_targeted', 'cw_abort', 'cw_stop'):
            pred = model(out[k]).argmax(1)
            tgt = targets if k.endswith('targeted') else labels
            ok = (pred == tgt) if k.endswith('targeted') else (pred != tgt)
            d = (out[k] - x).flatten(1)
            report[k] = {'success': ok.int().tolist(), 'linf': d.abs().amax(1).tolist(), 'l2': d.norm(dim=1).tolist()}
    print(json.dumps({k: (sum(v['success']), sum(v['l2']) / 8) for k, v in report.items()}))
    tensors = {**{'w.' + k: v for k, v in net.state_dict().items()}, **out}
    meta = {'settings': json.dumps(S), 'mean': str(MEAN), 'std': str(STD), 'model': json.dumps({'name': 'lenet', 'filters': [8, 16]}),
            'report': json.dumps(report)}
    meta.update(build_info())
    size = save_safetensors(os.path.join(OUT, 'attacks.safetensors'), tensors, meta)
    print(json.dumps({'attacks.safetensors': size}))


if __name__ == '__main__':
    main()
