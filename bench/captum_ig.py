"""Times Captum's IntegratedGradients (riemann_trapezoid, `steps` steps, internal_batch_size as csgnet's
passes) on ResNet-20 in eval mode, the maps `npm run bench ig` times in csgnet, with the model in NCHW and in
channels_last. Captum is imported as scripts/golden/explain_attr.py does (CAPTUM_SRC, else extracted from
the mirror). Run with Debian's /usr/bin/python3. Prints one JSON line per memory format."""
import argparse, json, os, sys, time
import torch
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(os.path.dirname(here), 'scripts', 'golden'))
from pytorch_step import CifarResNet  # noqa: E402
from explain_attr import import_captum  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--images', type=int, default=64)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--steps', type=int, default=32)
p.add_argument('--internal-batch', type=int, default=512)
p.add_argument('--input', default='1x28x28')
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
sys.argv = sys.argv[:1]   # import_captum reads a folder from argv[1]
attr, commit = import_captum()
torch.set_num_threads(a.threads)
c, h, w = map(int, a.input.split('x'))
x_all = torch.randn(a.images, c, h, w)
y_all = torch.randint(0, 10, (a.images,))

for name, fmt in [('nchw', torch.contiguous_format), ('channels_last', torch.channels_last)]:
    torch.manual_seed(0)
    model = CifarResNet(20, c, 10).eval().to(memory_format=fmt)
    ig = attr.IntegratedGradients(model)

    def run():
        for i in range(0, a.images, a.batch):
            x = x_all[i:i + a.batch].contiguous(memory_format=fmt)
            ig.attribute(x, target=y_all[i:i + a.batch], n_steps=a.steps, method='riemann_trapezoid',
                         internal_batch_size=a.internal_batch).sum(1).abs()

    run()  # warm-up
    t0 = time.perf_counter()
    run()
    s = time.perf_counter() - t0
    print(json.dumps({'impl': 'captum', 'commit': commit, 'bench': 'ig', 'memory_format': name, 'steps': a.steps, 'images': a.images,
                      'batch': a.batch, 'input': a.input, 'threads': torch.get_num_threads(), 'maps_per_s': a.images / s}))
