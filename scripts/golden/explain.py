#!/usr/bin/python3
"""Golden maps for csgnet's explainers (src/explain/), computed with PyTorch (Debian's python3-torch 1.13):

    /usr/bin/python3 scripts/golden/explain.py        (after nn_models.py, whose ResNet-20 weights it reuses)

The model is the CIFAR ResNet-20 (1 input channel, 10 classes) of resnet20_parity.safetensors (its `w.*`
tensors: F16-exact weights and random BatchNorm running stats), in eval mode, on 4 seeded 1x16x16 images
(4x4 last maps, like the released code's 128 px VOC Part crops). Writes test/golden/explain.safetensors:
  x, labels, G (a random CSG gate [64, 10]), logits,
  cam, gradcam, gradcampp                [N, H, W] ground-truth targets
  gradcam_pred, gradcampp_pred, cam_pred [N, H, W] predicted-class targets
  csgcam                                 [N, H, W] with G;  mean_act [K, C], std_gate [K, C], csgcam_std with it
  activmap16 [N, 16, H, W] (the first 16 filters of ActivMap), activ_thresholds [K]
  gradmap [N, 30, H, W], gradmap_filters [N, 30] (int64)
Conventions (method.md section 5, pytorch-grad-cam): maps are bilinearly upsampled (align_corners=False) and
returned raw (no min-max normalization); Grad-CAM and Grad-CAM++ apply pytorch-grad-cam's ReLU, CAM and
CSG-CAM none. Metadata: build info, the SHA-256 of the weight file used, and the float32-vs-float64 gap of
every map (how much float32 rounding alone moves it).
"""
import hashlib
import json
import math
import os

import torch
import torch.nn.functional as F

from build_info import build_info
from nn_models import CifarResNet, load_safetensors, save_safetensors

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')
WEIGHTS = os.path.join(OUT, 'resnet20_parity.safetensors')
TOP = 30


def upsample(m, size):
    return F.interpolate(m, size=size, mode='bilinear', align_corners=False)


def cam(model, x, y):
    a = model.features(x)
    w = model.fc.weight[y]                                   # [N, K]
    return upsample((w[:, :, None, None] * a).sum(1, keepdim=True), x.shape[2:])[:, 0]


def grads_at_features(model, x, y):
    a = model.features(x).detach().requires_grad_(True)
    logits = model.fc(torch.flatten(model.avgpool(a), 1))
    g, = torch.autograd.grad(logits.gather(1, y[:, None]).sum(), a)
    return a.detach(), g


def gradcam(model, x, y):
    # pytorch-grad-cam GradCAM.get_cam_weights: np.mean(grads, axis=(2, 3)); cam = relu(sum_k w_k A_k)
    a, g = grads_at_features(model, x, y)
    w = g.mean((2, 3))
    return upsample(F.relu((w[:, :, None, None] * a).sum(1, keepdim=True)), x.shape[2:])[:, 0]


def gradcampp(model, x, y):
    # pytorch-grad-cam GradCAMPlusPlus.get_cam_weights, verbatim in torch
    a, g = grads_at_features(model, x, y)
    g2 = g ** 2
    g3 = g2 * g
    s = a.sum((2, 3))
    aij = g2 / (2 * g2 + s[:, :, None, None] * g3 + 0.000001)
    aij = torch.where(g != 0, aij, torch.zeros_like(aij))
    w = (torch.clamp(g, min=0) * aij).sum((2, 3))
    return upsample(F.relu((w[:, :, None, None] * a).sum(1, keepdim=True)), x.shape[2:])[:, 0]


def csgcam(model, x, y, G):
    a = model.features(x)
    w = G[:, y].t()                                          # [N, K]
    return upsample((w[:, :, None, None] * a).sum(1, keepdim=True), x.shape[2:])[:, 0]


def mean_activation(model, x, y, C):
    """[K, C]: mean over the images of class c of filter k's spatial mean activation (NaN for absent classes)."""
    m = model.features(x).mean((2, 3))                       # [N, K]
    out = torch.full((m.shape[1], C), float('nan'), dtype=m.dtype)
    for c in range(C):
        sel = y == c
        if sel.any():
            out[:, c] = m[sel].mean(0)
    return out


def assignment_gate(mean_act):
    """0/1 gate: filter k -> the class of its highest mean activation (NaN ignored, ties to the lowest class)."""
    v = torch.nan_to_num(mean_act, nan=-math.inf)
    g = torch.zeros_like(mean_act)
    g[torch.arange(v.shape[0]), v.argmax(1)] = 1
    return g


def activ_thresholds(model, x):
    a = model.features(x)                                    # [N, K, h, w]
    vals = a.transpose(0, 1).reshape(a.shape[1], -1)         # [K, N*h*w]
    s, _ = vals.sort(1)
    n = vals.shape[1]
    return s[:, n - int(0.3 * n) if int(0.3 * n) > 0 else 0]  # sorted[-int(0.3 * count)]


def top_filters(mean_act, k):
    v = torch.nan_to_num(mean_act, nan=-math.inf)
    return v.t().sort(dim=1, descending=True, stable=True)[1][:, :k]   # [C, k] ranked by mean activation


def blur_params(h, w):
    s = min(h, w) / 128
    return 2 * math.floor(30 * s + 0.5) + 1, 30 * s        # kernel 61, sigma 30 at 128 px


def gaussian_blur(m, ksize, sigma):
    # torchvision.transforms.functional.gaussian_blur: separable kernel, reflect padding
    half = (ksize - 1) * 0.5
    t = torch.linspace(-half, half, ksize, dtype=m.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = m.shape[1]
    r = ksize // 2
    p = F.pad(m, [r, r, r, r], mode='reflect')
    p = F.conv2d(p, k.view(1, 1, ksize, 1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(p, k.view(1, 1, 1, ksize).repeat(c, 1, 1, 1), groups=c)


def gradmap(model, x, y, tops):
    """method.md section 5, one image and one filter at a time (the plain definition csgnet's batched version must match)."""
    ksize, sigma = blur_params(*x.shape[2:])
    maps = []
    for n in range(x.shape[0]):
        xi = x[n:n + 1].clone().requires_grad_(True)
        per = []
        for k in tops[y[n]].tolist():
            g, = torch.autograd.grad(model.features(xi)[0, k].mean(), xi)
            g = g.pow(2).sum(1, keepdim=True).sqrt()             # L2 over colour channels
            rms = g.pow(2).mean().sqrt()
            g = g / rms if rms > 0 else torch.zeros_like(g)
            per.append(gaussian_blur(g, ksize, sigma)[0, 0])
        maps.append(torch.stack(per))
    return torch.stack(maps), tops[y]


def all_maps(model, x, y, G):
    C = model.fc.out_features
    out = {}
    with torch.no_grad():
        logits = model(x)
        pred = logits.argmax(1)
        out['logits'] = logits
        out['cam'] = cam(model, x, y)
        out['cam_pred'] = cam(model, x, pred)
        out['csgcam'] = csgcam(model, x, y, G)
        ma = mean_activation(model, x, y, C)
        out['mean_act'] = ma
        out['std_gate'] = assignment_gate(ma)
        out['csgcam_std'] = csgcam(model, x, y, out['std_gate'])
        out['activmap16'] = upsample(model.features(x)[:, :16], x.shape[2:])
        out['activ_thresholds'] = activ_thresholds(model, x)
    out['gradcam'] = gradcam(model, x, y)
    out['gradcampp'] = gradcampp(model, x, y)
    out['gradcam_pred'] = gradcam(model, x, pred)
    out['gradcampp_pred'] = gradcampp(model, x, pred)
    out['gradmap'], out['gradmap_filters'] = gradmap(model, x, y, top_filters(ma, min(TOP, model.fc.in_features)))
    return {k: v.detach() for k, v in out.items()}


def parity_model():
    """(the eval-mode ResNet-20 of WEIGHTS, the file's SHA-256); explain_cam.py uses it too."""
    with open(WEIGHTS, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    w = {k[2:]: v.float() for k, v in load_safetensors(WEIGHTS).items() if k.startswith('w.')}
    model = CifarResNet(20, 1, 10)
    model.load_state_dict(w)
    model.eval()
    return model, sha


def main():
    model, sha = parity_model()
    g = torch.Generator().manual_seed(10)
    x = torch.randn(4, 1, 16, 16, generator=g)
    y = torch.tensor([0, 3, 3, 7])
    G = torch.rand(64, 10, generator=g)
    out = all_maps(model, x, y, G)
    # float64 run of the same computation: how far float32 rounding alone moves each map (relative to its max)
    out64 = all_maps(model.double(), x.double(), y, G.double())
    gap = {}
    for k, v in out.items():
        if v.is_floating_point():
            a, b = torch.nan_to_num(v.double()), torch.nan_to_num(out64[k])
            gap[k] = (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)
    assert torch.equal(out['gradmap_filters'], out64['gradmap_filters'])
    print(json.dumps({'relative_f32_gap': gap}, indent=1))
    tensors = {'x': x, 'labels': y, 'G': G, **out}
    meta = {'weights_file': 'resnet20_parity.safetensors', 'weights_sha256': sha, 'relative_f32_gap': json.dumps(gap),
            'top_filters': str(TOP), 'blur': json.dumps(blur_params(16, 16))}
    meta.update(build_info())
    size = save_safetensors(os.path.join(OUT, 'explain.safetensors'), tensors, meta)
    print(json.dumps({'explain.safetensors': size}))


if __name__ == '__main__':
    main()
