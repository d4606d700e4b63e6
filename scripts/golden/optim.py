#!/usr/bin/python3
"""Goldens for csgnet's optimizers and LR schedulers (test/golden/optim.json).

Run with Debian's python (torch 1.13.1): /usr/bin/python3 scripts/golden/optim.py
Every optimizer runs its single-tensor path (foreach=False), as csgnet does. Options are written
in csgnet's camelCase so the test can pass them straight through.
"""
import json
import math
import os
import warnings

import torch

from build_info import build_info  # noqa: E402  (torch version, build configuration, BLAS in use)

warnings.filterwarnings('ignore')
torch.manual_seed(0)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'golden', 'optim.json')
STEPS = 5

SNAKE = {'weightDecay': 'weight_decay', 'etaMin': 'eta_min', 'tMax': 'T_max', 'stepSize': 'step_size'}


def py_kwargs(opts):
    out = {}
    for k, v in opts.items():
        out[SNAKE.get(k, k)] = tuple(v) if k == 'betas' else v
    return out


def init_params(dtype):
    w = [[0.5, -1.25, 2.0], [0.75, -0.3, 1.1]]
    b = [0.1, -0.2, 0.3]
    return [torch.tensor(w, dtype=dtype), torch.tensor(b, dtype=dtype)]


def grad_for(step, idx, shape, dtype):
    """The synthetic gradient of parameter idx at step (0-based): a fixed smooth function."""
    n = 1
    for s in shape:
        n *= s
    vals = [math.sin(1.3 * step + 0.7 * idx + 0.45 * j) * (1.0 + 0.5 * j) - 0.1 * step for j in range(n)]
    return torch.tensor(vals, dtype=dtype).reshape(shape)


def state_to_json(sd):
    state = {}
    for k, v in sd['state'].items():
        entry = {}
        for name, val in v.items():
            if val is None:
                entry[name] = None
            elif torch.is_tensor(val):
                entry[name] = val.item() if name == 'step' else val.tolist()
            else:
                entry[name] = val
        state[str(k)] = entry
    groups = []
    for g in sd['param_groups']:
        groups.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()})
    return {'state': state, 'param_groups': groups}


def run_optimizer(case):
    dtype = torch.float64 if case.get('dtype') == 'float64' else torch.float32
    params = [p.requires_grad_(True) for p in init_params(dtype)]
    cls = {'SGD': torch.optim.SGD, 'Adam': torch.optim.Adam, 'AdamW': torch.optim.AdamW}[case['optimizer']]
    kwargs = py_kwargs(case['options'])
    kwargs['foreach'] = False
    if 'groups' in case:
        groups = [dict(py_kwargs(g['options']), params=[params[i] for i in g['params']]) for g in case['groups']]
        opt = cls(groups, **kwargs)
    else:
        opt = cls(params, **kwargs)
    skip = {(s, i) for s, i in case.get('skip', [])}
    grads, after, state_after2 = [], [], None
    for step in range(STEPS):
        step_grads = []
        for i, p in enumerate(params):
            if (step, i) in skip:
                p.grad = None
                step_grads.append(None)
            else:
                g = grad_for(step, i, p.shape, dtype)
                p.grad = g.clone()
                step_grads.append(g.tolist())
        grads.append(step_grads)
        opt.step()
        after.append([p.detach().tolist() for p in params])
        if step == 1:
            state_after2 = state_to_json(opt.state_dict())
    return {
        'name': case['name'], 'optimizer': case['optimizer'], 'options': case['options'],
        'groups': case.get('groups'), 'dtype': case.get('dtype', 'float32'),
        'init': [p.tolist() for p in init_params(dtype)], 'grads': grads, 'after': after,
        'state_after2': state_after2, 'state': state_to_json(opt.state_dict()),
    }


OPT_CASES = [
    {'name': 'sgd_plain', 'optimizer': 'SGD', 'options': {'lr': 0.1}},
    {'name': 'sgd_momentum', 'optimizer': 'SGD', 'options': {'lr': 0.1, 'momentum': 0.9}},
    {'name': 'sgd_momentum_dampening', 'optimizer': 'SGD', 'options': {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.3}},
    {'name': 'sgd_nesterov', 'optimizer': 'SGD', 'options': {'lr': 0.05, 'momentum': 0.8, 'nesterov': True}},
    {'name': 'sgd_weight_decay', 'optimizer': 'SGD', 'options': {'lr': 0.1, 'momentum': 0.5, 'weightDecay': 0.01}},
    {'name': 'sgd_weight_decay_nomomentum', 'optimizer': 'SGD', 'options': {'lr': 0.1, 'weightDecay': 0.05}},
    {'name': 'sgd_maximize', 'optimizer': 'SGD', 'options': {'lr': 0.1, 'momentum': 0.9, 'maximize': True}},
    {'name': 'sgd_two_groups', 'optimizer': 'SGD', 'options': {'lr': 0.05, 'momentum': 0.9},
     'groups': [{'params': [0], 'options': {'lr': 0.1}}, {'params': [1], 'options': {'lr': 0.01, 'momentum': 0.5}}]},
    {'name': 'sgd_skip', 'optimizer': 'SGD', 'options': {'lr': 0.1, 'momentum': 0.9}, 'skip': [[0, 1], [2, 1], [3, 0]]},
    {'name': 'adam', 'optimizer': 'Adam', 'options': {'lr': 0.01}},
    {'name': 'adam_amsgrad', 'optimizer': 'Adam', 'options': {'lr': 0.01, 'amsgrad': True}},
    {'name': 'adam_weight_decay', 'optimizer': 'Adam', 'options': {'lr': 0.01, 'weightDecay': 0.1}},
    {'name': 'adam_betas_eps_maximize', 'optimizer': 'Adam',
     'options': {'lr': 0.02, 'betas': [0.8, 0.99], 'eps': 1e-6, 'maximize': True}},
    {'name': 'adam_skip', 'optimizer': 'Adam', 'options': {'lr': 0.01, 'amsgrad': True}, 'skip': [[0, 1], [1, 1], [3, 0]]},
    {'name': 'adam_two_groups', 'optimizer': 'Adam', 'options': {'lr': 0.01},
     'groups': [{'params': [0], 'options': {}}, {'params': [1], 'options': {'lr': 0.1, 'weightDecay': 0.01}}]},
    {'name': 'adam_float64', 'optimizer': 'Adam', 'options': {'lr': 0.01, 'amsgrad': True, 'weightDecay': 0.01},
     'dtype': 'float64'},
    {'name': 'adamw', 'optimizer': 'AdamW', 'options': {'lr': 0.01}},
    {'name': 'adamw_amsgrad_wd', 'optimizer': 'AdamW', 'options': {'lr': 0.01, 'weightDecay': 0.1, 'amsgrad': True}},
    {'name': 'adamw_float64', 'optimizer': 'AdamW', 'options': {'lr': 0.05, 'weightDecay': 0.2, 'betas': [0.85, 0.95]},
     'dtype': 'float64'},
]

EPOCHS = 20

SCHED_CASES = [
    {'name': 'step_3_half', 'scheduler': 'StepLR', 'lrs': [0.1, 0.01], 'options': {'stepSize': 3, 'gamma': 0.5}},
    {'name': 'step_5_default', 'scheduler': 'StepLR', 'lrs': [0.1], 'options': {'stepSize': 5}},
    {'name': 'multistep', 'scheduler': 'MultiStepLR', 'lrs': [0.1, 0.2], 'options': {'milestones': [3, 7, 7, 12], 'gamma': 0.5}},
    {'name': 'multistep_default', 'scheduler': 'MultiStepLR', 'lrs': [0.05], 'options': {'milestones': [5, 10]}},
    {'name': 'cosine_10', 'scheduler': 'CosineAnnealingLR', 'lrs': [0.1], 'options': {'tMax': 10}},
    {'name': 'cosine_7_etamin', 'scheduler': 'CosineAnnealingLR', 'lrs': [0.1, 0.03], 'options': {'tMax': 7, 'etaMin': 0.001}},
    {'name': 'cosine_3', 'scheduler': 'CosineAnnealingLR', 'lrs': [1.0], 'options': {'tMax': 3, 'etaMin': 0.1}},
]


def make_scheduler(case):
    p = torch.zeros(1, requires_grad=True)
    q = torch.zeros(1, requires_grad=True)
    ps = [p, q]
    opt = torch.optim.SGD([{'params': [ps[i]], 'lr': lr} for i, lr in enumerate(case['lrs'])], lr=case['lrs'][0])
    o = case['options']
    name = case['scheduler']
    if name == 'StepLR':
        s = torch.optim.lr_scheduler.StepLR(opt, o['stepSize'], **({'gamma': o['gamma']} if 'gamma' in o else {}))
    elif name == 'MultiStepLR':
        s = torch.optim.lr_scheduler.MultiStepLR(opt, o['milestones'], **({'gamma': o['gamma']} if 'gamma' in o else {}))
    else:
        s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, o['tMax'], **({'eta_min': o['etaMin']} if 'etaMin' in o else {}))
    return opt, s


def sched_state_json(s):
    out = {}
    for k, v in s.state_dict().items():
        if k == 'milestones':
            v = {str(m): c for m, c in v.items()}
        out[k] = v
    return out


def run_scheduler(case):
    opt, s = make_scheduler(case)
    lrs = [s.get_last_lr()]
    state_at_8 = None
    for e in range(EPOCHS):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr())
        if e == 7:
            state_at_8 = sched_state_json(s)
    final = sched_state_json(s)
    opt_groups = [{k: v for k, v in g.items() if k != 'params'} for g in opt.state_dict()['param_groups']]
    # closed form (step(epoch)) at a few epochs
    opt2, s2 = make_scheduler(case)
    closed = []
    for e in [1, 2, 5, 9, 13, 20]:
        s2.step(e)
        closed.append([e, s2.get_last_lr()])
    return {'name': case['name'], 'scheduler': case['scheduler'], 'lrs0': case['lrs'], 'options': case['options'],
            'lrs': lrs, 'state_at_8': state_at_8, 'state': final, 'optimizer_groups': opt_groups, 'closed': closed}


def main():
    out = {
        'torch': torch.__version__,
        'steps': STEPS,
        'optimizers': [run_optimizer(c) for c in OPT_CASES],
        'schedulers': [run_scheduler(c) for c in SCHED_CASES],
        '__metadata__': build_info(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=None, separators=(',', ':'))
        f.write('\n')
    print('wrote', os.path.normpath(OUT))


if __name__ == '__main__':
    main()
