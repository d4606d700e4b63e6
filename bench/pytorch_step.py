"""Times one full training step (forward, cross-entropy, backward, SGD step) in PyTorch, the same
step `csgnet bench` times, for NCHW and channels_last. Run with Debian's /usr/bin/python3.
Prints one JSON line per memory format, with the same fields as `csgnet bench --json`."""
import argparse, json, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        return F.relu(o + (x if self.downsample is None else self.downsample(x)))


class CifarResNet(nn.Module):
    def __init__(self, depth, in_ch, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(16)
        cin, layers = 16, []
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1)); cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


def build(name, in_ch, classes):
    if name.startswith('resnet') and int(name[6:]) in (20, 32, 44, 56, 110):
        return CifarResNet(int(name[6:]), in_ch, classes)
    import torchvision.models as tvm  # ImageNet ResNets need python3-torchvision
    m = getattr(tvm, name)(num_classes=classes)
    if in_ch != 3:
        m.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
    return m


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='resnet20')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--input', default='3x32x32')
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--memory-format', choices=['nchw', 'channels_last', 'both'], default='both')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    c, h, w = (int(v) for v in a.input.split('x'))
    formats = ['nchw', 'channels_last'] if a.memory_format == 'both' else [a.memory_format]
    for fmt in formats:
        torch.manual_seed(0)
        mf = torch.channels_last if fmt == 'channels_last' else torch.contiguous_format
        model = build(a.model, c, a.classes).to(memory_format=mf)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
        x = torch.randn(a.batch, c, h, w).contiguous(memory_format=mf)
        y = torch.randint(0, a.classes, (a.batch,))
        times = []
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss.item()
            if i >= a.warmup: times.append((time.perf_counter() - t0) * 1000)
        ms = statistics.median(times)
        print(json.dumps({'impl': 'pytorch', 'torch': torch.__version__, 'model': a.model, 'batch': a.batch, 'input': a.input,
                          'steps': a.steps, 'ms_per_step': ms, 'images_per_s': a.batch * 1000 / ms,
                          'threads': torch.get_num_threads(), 'memory_format': fmt}), flush=True)


if __name__ == '__main__':
    main()
