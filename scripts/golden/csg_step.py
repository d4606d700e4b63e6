#!/usr/bin/python3
"""Golden values for three training steps of the PyTorch reference
(../shared/reference/csg_reference.py): one STD step (CE, backward, SGD step), then two CSG steps
(gated forward, CE + lambda * hinge(G), backward, SGD steps of the network and of the gate, row-max
projection), in float32 and in float64. Run with Debian's own interpreter:

    /usr/bin/python3 scripts/golden/csg_step.py

Writes test/golden/csg_step.safetensors: the reference ResNet-20's weights (rounded to float16 so the
file stays small; both sides use exactly those values as float32 or float64) under csgnet's
torchvision-style names, a Fashion-MNIST batch (normalized like the reference), the starting gate, and
per step (`step0.` STD, `step1.`/`step2.` CSG): the logits, [loss, CE, penalty], the gate's gradient,
the projected gate, full gradients of the parameters in FULL_GRADS, full values after the step of the
parameters in FULL_PARAMS, and [sum, sum|.|, L2] of every parameter's gradient and of every parameter
after the step. The same keys under `f64.` hold the float64 run. The metadata holds the settings, the
tolerance rule's constants and build_info() (torch version and build configuration, BLAS in use).

Conditioning, and the tolerances the test derives from it (test/csg_step.test.ts):
The float32 run is ill-conditioned: BatchNorm over 16 images and an lr-0.1 Nesterov step turn
rounding-level differences (another BLAS, another summation order) into large ones. A 1e-7 relative
change of the input moves the first conv's gradient by up to 0.5 % norm-wise in the STD step already
(in about a third of the perturbed runs it flips ReLUs whose input is ~0, hence 8 runs), the early
layers' gradients by ~30 % in the first CSG step and by ~100 % in the second (the cross-entropy by
0.7 %, the gate by 1e-4). An elementwise comparison there would measure the BLAS vendor, not
correctness. So the script also runs the float32 steps PERTURB_RUNS more times on inputs
x * (1 + 1e-7 * n), n ~ N(0, 1) seeded 1..PERTURB_RUNS, and stores, for every value K of the float32 run:
  `nspread.K`  (full tensors) the largest norm-wise relative difference ||K_p - K|| / ||K|| of a
               perturbed run p from the unperturbed one, a float64 scalar;
  `aspread.K`  (vectors of scalars: the loss parts, the [sum, sum|.|, L2] statistics) the largest
               elementwise absolute difference |K_p - K|, float64, K's shape.
The rule: every tensor must agree norm-wise within max(SPREAD_FACTOR * nspread, 1e-6), every scalar
within max(SPREAD_FACTOR * aspread, 1e-6 * |expected|). In addition, the values of the first (STD)
step listed in the metadata's `elementwise` are compared elementwise with the fixed float32 tolerances
STEP0_TOL: those whose perturbation spread stays within a tenth of those tolerances (the forward pass,
the loss, the head's gradients; not the first conv's gradient).
The float64 run is well conditioned (a 1e-16 relative perturbation moves it by ~1e-11 norm-wise), so
the test compares it elementwise everywhere with rtol 1e-10 and atol 1e-10 times the largest magnitude
in the tensor; the script asserts that such a perturbation stays within a tenth of that tolerance.
"""
import json, os, sys
import torch, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get('CSG_REFERENCE_DIR', os.path.join(ROOT, '..', 'shared', 'reference')))
from nn_models import save_safetensors  # noqa: E402
from build_info import build_info  # noqa: E402
import csg_reference as ref  # noqa: E402

torch.set_num_threads(1)
LAMBDA, RHO, LR, BATCH = 0.1, 0.1, 0.1, 16
PERTURB_RUNS, PERTURB_REL, PERTURB_REL_F64 = 8, 1e-7, 1e-16
SPREAD_FACTOR = 10
FULL_GRADS = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight', 'layer2.0.downsample.0.weight',
              'layer3.2.bn2.weight', 'layer3.2.bn2.bias', 'fc.weight', 'fc.bias']
FULL_PARAMS = ['conv1.weight', 'fc.weight', 'fc.bias']
# float32 tolerances (atol, rtol) of the elementwise checks of the forward pass and the first step
STEP0_TOL = {'logits': (1e-4, 1e-4), 'loss': (1e-5, 1e-4), 'grad': (1e-5, 1e-3), 'param': (1e-6, 1e-4),
             'grad_stats': (1e-5, 2e-3), 'param_stats': (1e-5, 1e-4)}
F64_RTOL = 1e-10


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


def run(state, g0, x, y, dtype):
    """The three steps from the given weights, gate and batch, in dtype; returns {key: tensor}."""
    model = ref.ResNet20(1, 10)
    model.load_state_dict(state)
    model.to(dtype)
    with torch.no_grad():
        model.gate.copy_(g0)
    x = x.to(dtype)
    named = [(our_name(n), q) for n, q in model.named_parameters() if n != 'gate']
    params = [q for _, q in named]
    opt = torch.optim.SGD(params, lr=LR, momentum=0.9, nesterov=True, weight_decay=1e-4)
    opt_gate = torch.optim.SGD([model.gate], lr=LR, momentum=0.9)
    out = {}
    model.train()
    for step, path in enumerate(['std', 'csg', 'csg']):
        csg = path == 'csg'
        opt.zero_grad(); opt_gate.zero_grad()
        logits = model(x, y) if csg else model(x)
        ce = F.cross_entropy(logits, y)
        reg = LAMBDA * F.relu(model.gate.abs().sum() - RHO * model.gate.numel()) if csg else torch.zeros((), dtype=dtype)
        loss = ce + reg
        loss.backward()
        s = f'step{step}.'
        out[s + 'logits'] = logits.detach().clone()
        out[s + 'loss'] = torch.tensor([loss.item(), ce.item(), reg.item()], dtype=torch.float64)
        if csg:
            out[s + 'gate_grad'] = model.gate.grad.clone()
        for n, q in named:
            if n in FULL_GRADS:
                out[s + 'grad.' + n] = q.grad.clone()
            out[s + 'grad_stats.' + n] = stats(q.grad)
        opt.step()
        if csg:
            opt_gate.step()
            with torch.no_grad():
                g = model.gate / model.gate.max(dim=1, keepdim=True)[0].clamp_min(1e-12)
                model.gate.copy_(g.clamp(0, 1))
        out[s + 'gate'] = model.gate.detach().clone()
        for n, q in named:
            if n in FULL_PARAMS:
                out[s + 'param.' + n] = q.detach().clone()
            out[s + 'param_stats.' + n] = stats(q)
    return out


def is_scalars(key):
    return key.endswith('.loss') or '_stats.' in key


def perturbed(x, seed, rel):
    gen = torch.Generator().manual_seed(seed)
    return x.double() * (1 + rel * torch.randn(x.shape, generator=gen, dtype=torch.float64))


def kind(key):
    """The STEP0_TOL entry of a step-0 key."""
    part = key.split('.')[1]
    return {'gate_grad': 'grad', 'gate': 'param'}.get(part, part)


def main():
    torch.manual_seed(0)
    trx, try_, _, _ = ref.load_fashion('/usr/share/datasets/fashion-mnist')
    x, y = trx[:BATCH].clone(), try_[:BATCH].clone()
    model = ref.ResNet20(1, 10)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
        g0 = (0.3 + 0.7 * torch.rand(64, 10)).half().float()
    state = {n: t.clone() for n, t in model.state_dict().items()}
    out = {'x': x, 'y': y, 'gate0': g0.clone()}
    for n, t in state.items():
        if n == 'gate':
            continue
        out['model.' + our_name(n)] = t.half() if t.is_floating_point() else t.clone()

    base = run(state, g0, x, y, torch.float32)
    elementwise = []
    runs = [run(state, g0, perturbed(x, seed, PERTURB_REL).float(), y, torch.float32) for seed in range(1, PERTURB_RUNS + 1)]
    for k, v in base.items():
        out[k] = v
        ref_ = v.double()
        diffs = [(r[k].double() - ref_) for r in runs]
        if is_scalars(k):
            out['aspread.' + k] = torch.stack([d.abs() for d in diffs]).amax(0)
        else:
            out['nspread.' + k] = torch.tensor(max((d.norm() / ref_.norm()).item() for d in diffs), dtype=torch.float64)
        if k.startswith('step0.'):  # elementwise only where the perturbation spread is a tenth of the tolerance
            atol, rtol = STEP0_TOL[kind(k)]
            worst = max(((d.abs()) / (atol + rtol * ref_.abs())).max().item() for d in diffs)
            if worst <= 0.1:
                elementwise.append(k)

    base64 = run(state, g0.double(), x, y, torch.float64)
    for k, v in base64.items():
        out['f64.' + k] = v.double()
    for seed in range(1, PERTURB_RUNS + 1):
        r = run(state, g0.double(), perturbed(x, seed, PERTURB_REL_F64), y, torch.float64)
        for k, v in base64.items():
            tol = F64_RTOL * (v.abs() + v.abs().max())
            assert ((r[k] - v).abs() <= 0.1 * tol).all(), f'f64.{k}: a {PERTURB_REL_F64} perturbation moves it past a tenth of the tolerance'

    path = os.path.join(ROOT, 'test', 'golden', 'csg_step.safetensors')
    meta = {'lambda': str(LAMBDA), 'rho': str(RHO), 'lr': str(LR), 'perturb_runs': str(PERTURB_RUNS),
            'perturb_rel': str(PERTURB_REL), 'spread_factor': str(SPREAD_FACTOR), 'f64_rtol': str(F64_RTOL),
            'step0_tol': json.dumps(STEP0_TOL), 'elementwise': json.dumps(elementwise)}
    meta.update(build_info())
    size = save_safetensors(path, out, meta)
    n0 = sum(k.startswith('step0.') for k in base)
    print(f'wrote {path} ({size} bytes); {len(elementwise)} of the {n0} STD-step values are well conditioned enough for elementwise checks')


if __name__ == '__main__':
    main()
