#!/usr/bin/python3
"""Golden values for csgnet's torch.nn layers, model definitions and safetensors I/O, computed with
PyTorch (Debian's python3-torch 1.13). Run with Debian's own interpreter:

    /usr/bin/python3 scripts/golden/nn_models.py

Writes (all small) into test/golden/:
  nn_layers.safetensors   per layer case: input x, parameters, the fixed cotangent r, the output and
                          the gradients of sum(out * r) w.r.t. x and every parameter (BatchNorm: train
                          mode incl. updated running stats, eval mode, cumulative momentum=None, ...)
  nn_init.json            seeded default initialization (nn.Conv2d, nn.Linear, nn.init.*) and seeded
                          model construction (per-parameter sums and first values): csgnet draws the
                          same generator calls, so these match exactly
  models.json             per registered model: state-dict names/shapes/dtypes, parameter count,
                          top-level children, features shape
  resnet20_parity.safetensors  CIFAR ResNet-20 (in 1, 10 classes) weights stored as F16 (the model
                          uses exactly those values as float32) with random BN running stats, two 28x28
                          images and labels, train-mode logits, loss, some full gradients and
                          [sum, sum|.|, L2] of every parameter's gradient, updated running stats, and
                          eval-mode logits afterwards
  tiny_state.safetensors  a tiny model's state dict plus one tensor of every supported dtype, written
                          with the hand-written writer below exactly as the reference implementation
                          lays files out (csgnet's writer must reproduce it byte for byte)
  tiny_state.json         the expected values of tiny_state.safetensors and the tiny model's output

ImageNet ResNets are defined below exactly as torchvision 0.14 does; when torchvision is importable
(apt-get install python3-torchvision) the script also asserts that names, shapes and seeded weights
equal torchvision's. The CIFAR ResNet is checked against ../shared/reference/csg_reference.py.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from build_info import build_info  # noqa: E402  (torch version, build configuration, BLAS in use)

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'golden')

# ---- safetensors, written the way the reference implementation (huggingface/safetensors) does -------
ST = {torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64',
      torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL'}
# the reference's Dtype enum order; it sorts tensors by dtype descending, then by name
RANK = {'BOOL': 0, 'U8': 1, 'I8': 2, 'I16': 3, 'F16': 4, 'BF16': 5, 'I32': 6, 'F32': 7, 'F64': 8, 'I64': 9}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def save_safetensors(path, tensors, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-RANK[ST[kv[1].dtype]], kv[0]))
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in items:
        b = tensor_bytes(t)
        header[name] = {'dtype': ST[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return os.path.getsize(path)


def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    inv = {v: k for k, v in ST.items()}
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b0, b1 = e['data_offsets']
        dt = inv[e['dtype']]
        raw = bytearray(data[b0:b1])
        if dt in (torch.float16, torch.bfloat16):
            t = torch.frombuffer(raw, dtype=torch.int16).view(dt) if raw else torch.zeros(0, dtype=dt)
        else:
            t = torch.frombuffer(raw, dtype=dt) if raw else torch.zeros(0, dtype=dt)
        out[name] = t.reshape(e['shape']).clone()
    return out


# ---- model definitions -----------------------------------------------------------------------------
# torchvision 0.14 resnet.py, verbatim in structure (groups=1, width 64, no dilation, BatchNorm2d)
def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=3, stride=stride, padding=1, groups=1, bias=False, dilation=1)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, in_channels=3, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


IMAGENET = {'resnet18': (BasicBlock, [2, 2, 2, 2]), 'resnet34': (BasicBlock, [3, 4, 6, 3]),
            'resnet50': (Bottleneck, [3, 4, 6, 3]), 'resnet101': (Bottleneck, [3, 4, 23, 3]),
            'resnet152': (Bottleneck, [3, 8, 36, 3])}


class CifarResNet(nn.Module):
    """csgnet's CIFAR ResNet: the reference's network with torchvision's names and construction order."""

    def __init__(self, depth, in_channels=3, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = 16
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(BasicBlock(planes, planes))
        return nn.Sequential(*layers)

    def features(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        return self.layer3(self.layer2(self.layer1(x)))

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


VGG_CFGS = {'vgg11': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
            'vgg16': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']}


class CsgVGG(nn.Module):
    """torchvision's vgg*_bn `features` without the last max-pool, then GAP + fc(512 -> C)."""

    def __init__(self, cfg, in_channels=3, num_classes=10):
        super().__init__()
        layers, c = [], in_channels
        for v in VGG_CFGS[cfg][:-1]:
            if v == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(c, v, kernel_size=3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


class LeNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, filters=(32, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, filters[0], 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(filters[0], filters[1], 5, padding=2)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(filters[1], num_classes)

    def features(self, x):
        return self.pool2(self.relu2(self.conv2(self.pool1(self.relu1(self.conv1(x))))))

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def make(name, in_channels, num_classes):
    if name in IMAGENET:
        b, l = IMAGENET[name]
        return ResNet(b, l, num_classes=num_classes, in_channels=in_channels)
    if name.startswith('resnet'):
        return CifarResNet(int(name[6:]), in_channels, num_classes)
    if name.startswith('vgg'):
        return CsgVGG(name[:-3], in_channels, num_classes)
    return LeNet(in_channels, num_classes)


MODELS = {  # name: (inChannels, numClasses, input size of the features-shape probe: small, to keep tests fast)
    'resnet20': (3, 10, 32), 'resnet32': (3, 10, 32), 'resnet44': (3, 10, 32), 'resnet56': (3, 10, 32),
    'resnet110': (3, 10, 32), 'resnet18': (3, 1000, 64), 'resnet34': (3, 1000, 64), 'resnet50': (3, 1000, 64),
    'resnet101': (3, 1000, 64), 'resnet152': (3, 1000, 64), 'vgg11_bn': (3, 10, 32), 'vgg16_bn': (3, 10, 32),
    'lenet': (1, 10, 28)}


# ---- cross-checks against torchvision and the shared reference ----------------------------------------
def check_torchvision():
    try:
        import torchvision.models as tvm
    except ImportError:
        print('torchvision not importable: skipping the torchvision cross-check', file=sys.stderr)
        return False
    for name in IMAGENET:
        torch.manual_seed(7)
        a = make(name, 3, 1000).state_dict()
        torch.manual_seed(7)
        b = getattr(tvm, name)().state_dict()
        assert list(a) == list(b), name
        for k in a:
            assert a[k].shape == b[k].shape and torch.equal(a[k], b[k]), (name, k)
    for name in ('vgg11_bn', 'vgg16_bn'):
        ours = {k: v.shape for k, v in make(name, 3, 10).state_dict().items() if k.startswith('features.')}
        tv = {k: v.shape for k, v in getattr(tvm, name)().state_dict().items() if k.startswith('features.')}
        assert ours == tv, name
    print('torchvision cross-check passed (resnet18..152 names/shapes/seeded weights, vgg features names)', file=sys.stderr)
    return True


def check_reference():
    ref = os.path.join(ROOT, '..', 'shared', 'reference')
    if not os.path.exists(os.path.join(ref, 'csg_reference.py')):
        print('shared reference not found: skipping the ResNet-20 reference cross-check', file=sys.stderr)
        return False
    sys.path.insert(0, ref)
    import csg_reference as R
    torch.manual_seed(3)
    r = R.ResNet20(1, 10)
    ours = CifarResNet(20, 1, 10)
    rs = {k: v for k, v in r.state_dict().items() if k != 'gate'}

    def rename(k):
        k = k.replace('stem.0.', 'conv1.').replace('stem.1.', 'bn1.')
        if k.startswith('body.'):
            i, rest = k[5:].split('.', 1)
            i = int(i)
            rest = rest.replace('c1.', 'conv1.').replace('b1.', 'bn1.').replace('c2.', 'conv2.').replace('b2.', 'bn2.')
            rest = rest.replace('short.', 'downsample.')
            k = f'layer{i // 3 + 1}.{i % 3}.{rest}'
        return k
    mapped = {rename(k): v for k, v in rs.items()}
    assert set(mapped) == set(ours.state_dict()), set(mapped) ^ set(ours.state_dict())
    ours.load_state_dict(mapped)
    x = torch.randn(2, 1, 28, 28)
    r.eval(); ours.eval()
    assert torch.allclose(r(x), ours(x), atol=1e-6)
    print('reference ResNet20 cross-check passed (same parameters, same eval logits)', file=sys.stderr)
    return True


# ---- (a) layer goldens -------------------------------------------------------------------------------
def layer_cases():
    g = torch.Generator().manual_seed(1234)

    def rn(*s):
        return torch.randn(*s, generator=g)

    out, cfg = {}, {}

    def run(name, mod, x, train=True, steps=1, config=None, set_params=True):
        mod.train(train)
        if set_params:
            with torch.no_grad():
                for p in mod.parameters():
                    p.copy_(rn(*p.shape) * 0.5)
                for sub in mod.modules():
                    if isinstance(sub, nn.BatchNorm2d) and sub.weight is not None:
                        sub.weight.add_(1.0)
                for bn_, b in mod.named_buffers():
                    if bn_.endswith('running_mean'):
                        b.copy_(rn(*b.shape) * 0.2)
                    elif bn_.endswith('running_var'):
                        b.copy_(torch.rand(b.shape, generator=g) + 0.5)
        xs = [x.clone().requires_grad_(True) for x in ([x] if steps == 1 else x)]
        for i, xi in enumerate(xs):
            out[f'{name}.x{i}'] = xi.detach().clone()
        for pn, p in mod.named_parameters():
            out[f'{name}.p.{pn}'] = p.detach().clone()
        for bn_, b in mod.named_buffers():
            out[f'{name}.b0.{bn_}'] = b.detach().clone()
        loss = 0
        for i, xi in enumerate(xs):
            y = mod(xi)
            r = rn(*y.shape)
            out[f'{name}.r{i}'] = r
            out[f'{name}.y{i}'] = y.detach().clone()
            loss = loss + (y * r).sum()
        loss.backward()
        for i, xi in enumerate(xs):
            out[f'{name}.gx{i}'] = xi.grad.clone()
        for pn, p in mod.named_parameters():
            out[f'{name}.g.{pn}'] = p.grad.clone()
        for bn_, b in mod.named_buffers():
            out[f'{name}.b1.{bn_}'] = b.detach().clone()
        cfg[name] = dict(config or {}, train=train, steps=len(xs))

    run('conv_a', nn.Conv2d(3, 4, 3, stride=2, padding=1), rn(2, 3, 7, 7),
        config={'args': [3, 4, 3], 'stride': 2, 'padding': 1})
    run('conv_b', nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(2, 1), dilation=2, groups=2, bias=False), rn(2, 4, 8, 9),
        config={'args': [4, 6, [3, 2]], 'stride': [1, 2], 'padding': [2, 1], 'dilation': 2, 'groups': 2, 'bias': False})
    run('linear', nn.Linear(5, 3), rn(4, 5), config={'args': [5, 3]})
    run('linear_nobias', nn.Linear(5, 3, bias=False), rn(2, 3, 5), config={'args': [5, 3], 'bias': False})
    run('bn_train', nn.BatchNorm2d(3), [rn(4, 3, 5, 5) * 2 + 1, rn(4, 3, 5, 5)], steps=2, config={'args': [3]})
    run('bn_eval', nn.BatchNorm2d(3), rn(2, 3, 4, 4), train=False, config={'args': [3]})
    run('bn_cma', nn.BatchNorm2d(3, momentum=None, eps=1e-3), [rn(2, 3, 4, 4), rn(2, 3, 4, 4) + 3, rn(2, 3, 4, 4)], steps=3,
        config={'args': [3], 'momentum': None, 'eps': 1e-3})
    run('bn_nostats', nn.BatchNorm2d(3, affine=False, track_running_stats=False), rn(2, 3, 4, 4), train=False,
        config={'args': [3], 'affine': False, 'trackRunningStats': False})
    run('relu', nn.ReLU(), rn(2, 3, 4), config={})
    run('leaky_relu', nn.LeakyReLU(0.2), rn(2, 3, 4), config={'args': [0.2]})
    run('maxpool_a', nn.MaxPool2d(3, stride=2, padding=1), rn(2, 2, 7, 7), config={'args': [3], 'stride': 2, 'padding': 1})
    run('maxpool_ceil', nn.MaxPool2d(2, ceil_mode=True), rn(1, 2, 5, 5), config={'args': [2], 'ceilMode': True})
    run('avgpool_a', nn.AvgPool2d(2), rn(2, 2, 6, 6), config={'args': [2]})
    run('avgpool_b', nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), rn(1, 2, 7, 7),
        config={'args': [3], 'stride': 2, 'padding': 1, 'countIncludePad': False})
    run('adaptive', nn.AdaptiveAvgPool2d((2, 3)), rn(2, 3, 7, 9), config={'args': [[2, 3]]})
    run('flatten', nn.Flatten(), rn(2, 3, 2, 2), config={})
    seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4))
    run('sequential', seq, rn(3, 2, 4, 4), config={})
    return out, cfg


# ---- (b) init and model structure ----------------------------------------------------------------------
def first(t, n=6):
    return [float(v) for v in t.detach().flatten()[:n].double()]


def summary(t):
    d = t.detach().double()
    return {'shape': list(t.shape), 'sum': float(d.sum()), 'abs': float(d.abs().sum()), 'first': first(t)}


def init_goldens():
    res = {'gain': {'relu': nn.init.calculate_gain('relu'), 'tanh': nn.init.calculate_gain('tanh'),
                    'leaky_relu': nn.init.calculate_gain('leaky_relu'), 'leaky_relu_0.2': nn.init.calculate_gain('leaky_relu', 0.2),
                    'sigmoid': nn.init.calculate_gain('sigmoid'), 'selu': nn.init.calculate_gain('selu')}}
    torch.manual_seed(11)
    c = nn.Conv2d(3, 8, 3)
    res['conv2d'] = {'weight': summary(c.weight), 'bias': summary(c.bias)}
    c = nn.Conv2d(4, 6, (3, 2), groups=2)
    res['conv2d_groups'] = {'weight': summary(c.weight), 'bias': summary(c.bias)}
    l = nn.Linear(20, 5)
    res['linear'] = {'weight': summary(l.weight), 'bias': summary(l.bias)}
    t = torch.zeros(16, 8, 3, 3)
    res['kaiming_normal_fan_out_relu'] = summary(nn.init.kaiming_normal_(t, mode='fan_out', nonlinearity='relu'))
    res['kaiming_uniform_default'] = summary(nn.init.kaiming_uniform_(torch.zeros(16, 8, 3, 3)))
    res['kaiming_uniform_a1_fan_out'] = summary(nn.init.kaiming_uniform_(torch.zeros(10, 7), a=1, mode='fan_out'))
    res['xavier_uniform'] = summary(nn.init.xavier_uniform_(torch.zeros(10, 20)))
    res['xavier_normal_gain2'] = summary(nn.init.xavier_normal_(torch.zeros(10, 20, 3), gain=2.0))
    res['normal'] = summary(nn.init.normal_(torch.zeros(40), 1.0, 0.5))
    res['uniform'] = summary(nn.init.uniform_(torch.zeros(40), -2.0, 3.0))
    models = {}
    for name, (cin, ncls) in {'resnet20': (1, 10), 'resnet18': (3, 10), 'vgg11_bn': (3, 10), 'lenet': (1, 10)}.items():
        torch.manual_seed(5)
        m = make(name, cin, ncls)
        models[name] = {'inChannels': cin, 'numClasses': ncls, 'seed': 5,
                        'params': {k: summary(v) for k, v in m.state_dict().items() if v.is_floating_point()}}
    res['models'] = models
    return res


def model_goldens():
    res = {}
    for name, (cin, ncls, size) in MODELS.items():
        m = make(name, cin, ncls)
        sd = m.state_dict()
        m.eval()
        with torch.no_grad():
            feats = m.features(torch.zeros(1, cin, size, size))
        res[name] = {'inChannels': cin, 'numClasses': ncls, 'probeSize': size,
                     'state': [[k, list(v.shape), str(v.dtype).replace('torch.', '')] for k, v in sd.items()],
                     'numParameters': sum(p.numel() for p in m.parameters()),
                     'children': [n for n, _ in m.named_children()],
                     'featuresShape': list(feats.shape)}
    return res


# ---- (c) ResNet-20 forward/backward parity ------------------------------------------------------------
def resnet20_parity():
    torch.manual_seed(21)
    m = CifarResNet(20, 1, 10)
    with torch.no_grad():
        for k, b in m.named_buffers():
            if k.endswith('running_mean'):
                b.copy_(torch.randn(b.shape) * 0.1)
            elif k.endswith('running_var'):
                b.copy_(torch.rand(b.shape) + 0.5)
            elif k.endswith('num_batches_tracked'):
                b.fill_(5)
        for k, p in m.named_parameters():
            if 'bn' in k or 'downsample.1' in k:
                p.copy_(p + torch.randn(p.shape) * 0.1)
        # the stored weights are F16: make the model use exactly those values
        for k, v in m.state_dict().items():
            if v.is_floating_point():
                v.copy_(v.half().float())
    store = {k: (v.half() if v.is_floating_point() else v.clone()) for k, v in m.state_dict().items()}
    x = torch.randn(2, 1, 28, 28)
    y = torch.tensor([3, 7])
    m.train()
    logits = m(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    out = {f'w.{k}': v for k, v in store.items()}
    out.update({'x': x, 'labels': y, 'logits_train': logits.detach(), 'loss': loss.detach().reshape(1)})
    names = [k for k, _ in m.named_parameters()]
    stats = torch.tensor([[p.grad.double().sum(), p.grad.double().abs().sum(), p.grad.double().norm()]
                          for _, p in m.named_parameters()], dtype=torch.float64)
    out['gradstats'] = stats
    for k in ['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.bn2.weight', 'layer2.0.downsample.0.weight',
              'layer3.2.bn2.bias', 'fc.weight', 'fc.bias']:
        out[f'grad.{k}'] = dict(m.named_parameters())[k].grad.clone()
    for k in ['bn1', 'layer2.0.downsample.1', 'layer3.2.bn2']:
        bn = m.get_submodule(k)
        out[f'after.{k}.running_mean'] = bn.running_mean.clone()
        out[f'after.{k}.running_var'] = bn.running_var.clone()
        out[f'after.{k}.num_batches_tracked'] = bn.num_batches_tracked.clone()
    m.eval()
    with torch.no_grad():
        out['logits_eval'] = m(x)
        out['features_eval'] = m.features(x)[:, :4].clone()  # first 4 filters, [2, 4, 7, 7]
    return out, {'param_order': json.dumps(names)}


# ---- tiny state dict for the safetensors test --------------------------------------------------------
def tiny_state():
    torch.manual_seed(2)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    with torch.no_grad():
        m[1].running_mean.copy_(torch.tensor([0.1, -0.2]))
        m[1].running_var.copy_(torch.tensor([0.9, 1.3]))
        m[1].num_batches_tracked.fill_(4)
    m.eval()
    x = torch.randn(2, 1, 4, 4)
    with torch.no_grad():
        y = m(x)
    tensors = dict(m.state_dict())
    tensors.update({
        'extra.f64': torch.tensor([[1.5, -2.25, 1e-300]], dtype=torch.float64),
        'extra.f16': torch.tensor([0.5, -1.0, 65504.0, 0.0999755859375], dtype=torch.float16),
        'extra.bf16': torch.tensor([1.0, -3.5, 0.0078125], dtype=torch.bfloat16),
        'extra.i32': torch.tensor([-2147483648, 0, 2147483647], dtype=torch.int32),
        'extra.i16': torch.tensor([[-32768], [32767]], dtype=torch.int16),
        'extra.i8': torch.tensor([-128, 127, 0], dtype=torch.int8),
        'extra.u8': torch.tensor([0, 255, 7], dtype=torch.uint8),
        'extra.bool': torch.tensor([True, False, True]),
        'extra.scalar': torch.tensor(3.25),
        'extra.empty': torch.zeros(0, 3),
        'extra.i64': torch.tensor([-(2 ** 40), 2 ** 40 + 1]),
    })
    meta = {'format': 'pt', 'producer': 'scripts/golden/nn_models.py', 'note': 'csgnet tiny state – ünïcode ok'}
    values = {k: {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape),
                  'data': [(bool(e) if v.dtype == torch.bool else (int(e) if not v.is_floating_point() else float(e)))
                           for e in v.flatten().tolist()]} for k, v in tensors.items()}
    return tensors, meta, {'metadata': meta, 'tensors': values, 'x': x.flatten().tolist(), 'xShape': list(x.shape),
                           'y': y.flatten().tolist(), 'yShape': list(y.shape)}


def main():
    os.makedirs(OUT, exist_ok=True)
    check_torchvision()
    check_reference()
    sizes = {}
    t, cfg = layer_cases()
    sizes['nn_layers.safetensors'] = save_safetensors(os.path.join(OUT, 'nn_layers.safetensors'), t,
                                                      {'configs': json.dumps(cfg), **build_info()})
    with open(os.path.join(OUT, 'nn_init.json'), 'w') as f:
        json.dump({**init_goldens(), '__metadata__': build_info()}, f)
    with open(os.path.join(OUT, 'models.json'), 'w') as f:
        json.dump({**model_goldens(), '__metadata__': build_info()}, f, separators=(',', ':'))
    t, meta = resnet20_parity()
    meta.update(build_info())
    sizes['resnet20_parity.safetensors'] = save_safetensors(os.path.join(OUT, 'resnet20_parity.safetensors'), t, meta)
    tensors, meta, values = tiny_state()
    meta.update(build_info())
    path = os.path.join(OUT, 'tiny_state.safetensors')
    sizes['tiny_state.safetensors'] = save_safetensors(path, tensors, meta)
    back = load_safetensors(path)
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)
    with open(os.path.join(OUT, 'tiny_state.json'), 'w') as f:
        json.dump({**values, '__metadata__': build_info()}, f)
    for n in ['nn_init.json', 'models.json', 'tiny_state.json']:
        sizes[n] = os.path.getsize(os.path.join(OUT, n))
    print(json.dumps(sizes))


if __name__ == '__main__':
    main()
