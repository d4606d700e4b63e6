"""Times PGD-Linf (torchattacks' algorithm: uniform random start, `steps` signed-gradient steps of
`alpha`, projection to the eps ball and to [0, 1]) in PyTorch on ResNet-20 in eval mode, the attack
`npm run bench attack` times in csgnet, with the model in NCHW and in channels_last. Run with Debian's
/usr/bin/python3. Prints one JSON line per memory format."""
import argparse, json, os, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_step import CifarResNet  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--images', type=int, default=256)
p.add_argument('--batch', type=int, default=128)
p.add_argument('--steps', type=int, default=40)
p.add_argument('--eps', type=float, default=0.1)
p.add_argument('--input', default='1x28x28')
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
c, h, w = map(int, a.input.split('x'))
mean, std = torch.full((1, c, 1, 1), 0.286), torch.full((1, c, 1, 1), 0.353)
x_all = torch.rand(a.images, c, h, w)
y_all = torch.randint(0, 10, (a.images,))
alpha = a.eps / 10


def pgd(model, fmt, x, y):
    adv = (x + torch.empty_like(x).uniform_(-a.eps, a.eps)).clamp(0, 1)
    for _ in range(a.steps):
        adv.requires_grad_(True)
        loss = F.cross_entropy(model(((adv - mean) / std).contiguous(memory_format=fmt)), y)
        g, = torch.autograd.grad(loss, adv)
        adv = adv.detach() + alpha * g.sign()
        adv = torch.min(torch.max(adv, x - a.eps), x + a.eps).clamp(0, 1)
    return adv.detach()


def run(model, fmt):
    for i in range(0, a.images, a.batch):
        pgd(model, fmt, x_all[i:i + a.batch], y_all[i:i + a.batch])


for name, fmt in [('nchw', torch.contiguous_format), ('channels_last', torch.channels_last)]:
    torch.manual_seed(0)
    model = CifarResNet(20, c, 10).eval().to(memory_format=fmt)
    for q in model.parameters():
        q.requires_grad_(False)
    run(model, fmt)  # warm-up
    t0 = time.perf_counter()
    run(model, fmt)
    s = time.perf_counter() - t0
    print(json.dumps({'impl': 'pytorch', 'bench': 'attack', 'attack': 'pgd', 'memory_format': name, 'steps': a.steps, 'images': a.images,
                      'batch': a.batch, 'input': a.input, 'threads': torch.get_num_threads(), 'images_per_s': a.images / s}))
