"""Times torchattacks' own APGD (Linf, CE, one restart; Harry24k/adversarial-attacks-pytorch, extracted from the
mirror at the pinned commit unless --torchattacks names a checkout) on ResNet-20 in eval mode with random
weights and images, the attack `npm run bench apgd` times in csgnet. Run with Debian's /usr/bin/python3.
Labels are the model's own predictions, so every image is attacked. Prints one JSON line."""
import argparse, json, os, subprocess, sys, tempfile, time
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_step import CifarResNet  # noqa: E402

COMMIT = '23620a694a3660e4f194c3e4d28992bced7785a1'
p = argparse.ArgumentParser()
p.add_argument('--images', type=int, default=128)
p.add_argument('--batch', type=int, default=128)
p.add_argument('--steps', type=int, default=10)
p.add_argument('--eps', type=float, default=0.1)
p.add_argument('--input', default='1x28x28')
p.add_argument('--threads', type=int, default=2)
p.add_argument('--torchattacks', default=os.environ.get('CSGNET_TORCHATTACKS'))
p.add_argument('--mirror', default=os.environ.get('CSGNET_TORCHATTACKS_MIRROR', '/work/.mirror/Harry24k+adversarial-attacks-pytorch/repo'))
a = p.parse_args()
if not a.torchattacks:
    a.torchattacks = tempfile.mkdtemp(prefix='torchattacks-')
    tar = subprocess.run(['git', f'--git-dir={a.mirror}', 'archive', COMMIT, 'torchattacks'], check=True, capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', a.torchattacks], input=tar, check=True)
sys.path.insert(0, a.torchattacks)
import torchattacks  # noqa: E402

torch.set_num_threads(a.threads)
c, h, w = map(int, a.input.split('x'))
mean, std = torch.full((1, c, 1, 1), 0.286), torch.full((1, c, 1, 1), 0.353)


class Pixel(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net((x - mean) / std)


torch.manual_seed(0)
model = Pixel(CifarResNet(20, c, 10)).eval()
for q in model.parameters():
    q.requires_grad_(False)
x_all = torch.rand(a.images, c, h, w)
with torch.no_grad():
    y_all = torch.cat([model(x_all[i:i + a.batch]).argmax(1) for i in range(0, a.images, a.batch)])
atk = torchattacks.APGD(model, norm='Linf', eps=a.eps, steps=a.steps, n_restarts=1, seed=0, loss='ce')


def run():
    for i in range(0, a.images, a.batch):
        atk(x_all[i:i + a.batch], y_all[i:i + a.batch])


run()  # warm-up
t0 = time.perf_counter()
run()
s = time.perf_counter() - t0
print(json.dumps({'impl': 'torchattacks', 'version': torchattacks.__version__, 'bench': 'apgd', 'steps': a.steps, 'images': a.images, 'batch': a.batch,
                  'input': a.input, 'threads': torch.get_num_threads(), 'images_per_s': a.images / s}))
