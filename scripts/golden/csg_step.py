#!/usr/bin/python3
"""Golden values for three training steps of the PyTorch reference
(../shared/reference/csg_reference.py): one STD step (CE, backward, SGD step), then two CSG steps
(gated forward, CE + lambda * hinge(G), backward, SGD steps of the network and of the gate, row-max
projection). Run with Debian's own interpreter:

    /usr/bin/python3 scripts/golden/csg_step.py

Writes test/golden/csg_step.safetensors: the reference ResNet-20's weights (rounded to float16 so the
file stays small; both sides use exactly those values as float32) under csgnet's torchvision-style
names, a Fashion-MNIST batch (normalised like the reference), the starting gate, and per step: loss,
CE, penalty, the gate's gradient, the projected gate, full gradients of fc and the first conv,
[sum, sum|.|, L2] of every parameter's gradient and of every parameter after the step.
"""
import os, sys
import numpy as np
import torch, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get('CSG_REFERENCE_DIR', os.path.join(ROOT, '..', 'shared', 'reference')))
from nn_models import save_safetensors  # noqa: E402
import csg_reference as ref  # noqa: E402

torch.set_num_threads(1)
LAMBDA, RHO, LR, BATCH = 0.1, 0.1, 0.1, 16


def our_name(n):
    """Reference parameter name -> csgnet's (torchvision-style) name for the CIFAR ResNet-20."""
    p = n.split('.')
    if p[0] == 'stem':
        return ('conv1.' if p[1] == '0' else 'bn1.') + '.'.join(p[2:])
    if p[0] == 'body':
        i = int(p[1])
        block = f'layer{i // 3 + 1}.{i % 3}.'
        sub = {'c1': 'conv1', 'b1': 'bn1', 'c2': 'conv2', 'b2': 'bn2'}.get(p[2])
        if sub:
            return block + sub + '.' + '.'.join(p[3:])
        assert p[2] == 'short'
        return block + 'downsample.' + '.'.join(p[3:])
    return n


def stats(t):
    t = t.detach().double()
    return torch.tensor([t.sum(), t.abs().sum(), t.norm()], dtype=torch.float64)


def main():
    torch.manual_seed(0)
    trx, try_, _, _ = ref.load_fashion('/usr/share/datasets/fashion-mnist')
    x, y = trx[:BATCH].clone(), try_[:BATCH].clone()
    model = ref.ResNet20(1, 10)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
        g0 = (0.3 + 0.7 * torch.rand(64, 10)).half().float()
        model.gate.copy_(g0)
    out = {'x': x, 'y': y, 'gate0': g0.clone()}
    for n, t in model.state_dict().items():
        if n == 'gate':
            continue
        out['model.' + our_name(n)] = t.half() if t.is_floating_point() else t.clone()
    params = [q for n_, q in model.named_parameters() if n_ != 'gate']
    names = [our_name(n_) for n_, _ in model.named_parameters() if n_ != 'gate']
    opt = torch.optim.SGD(params, lr=LR, momentum=0.9, nesterov=True, weight_decay=1e-4)
    opt_gate = torch.optim.SGD([model.gate], lr=LR, momentum=0.9)
    model.train()
    for step, path in enumerate(['std', 'csg', 'csg']):
        csg = path == 'csg'
        opt.zero_grad(); opt_gate.zero_grad()
        logits = model(x, y) if csg else model(x)
        ce = F.cross_entropy(logits, y)
        reg = LAMBDA * F.relu(model.gate.abs().sum() - RHO * model.gate.numel()) if csg else torch.zeros(())
        loss = ce + reg
        loss.backward()
        s = f'step{step}.'
        out[s + 'loss'] = torch.tensor([loss.item(), ce.item(), reg.item()], dtype=torch.float64)
        out[s + 'gate_grad'] = model.gate.grad.clone() if csg else torch.zeros(64, 10)
        out[s + 'grad.fc.weight'] = model.fc.weight.grad.clone()
        out[s + 'grad.conv1.weight'] = model.stem[0].weight.grad.clone()
        for n_, q in zip(names, params):
            out[s + 'grad_stats.' + n_] = stats(q.grad)
        opt.step()
        if csg:
            opt_gate.step()
            with torch.no_grad():
                g = model.gate / model.gate.max(dim=1, keepdim=True)[0].clamp_min(1e-12)
                model.gate.copy_(g.clamp(0, 1))
        out[s + 'gate'] = model.gate.detach().clone()
        out[s + 'fc.weight'] = model.fc.weight.detach().clone()
        for n_, q in zip(names, params):
            out[s + 'param_stats.' + n_] = stats(q)
    path = os.path.join(ROOT, 'test', 'golden', 'csg_step.safetensors')
    size = save_safetensors(path, out, {'lambda': str(LAMBDA), 'rho': str(RHO), 'lr': str(LR), 'torch': torch.__version__})
    print(f'wrote {path} ({size} bytes)')


if __name__ == '__main__':
    main()
