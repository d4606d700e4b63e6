"""Times pytorch-grad-cam's own ScoreCAM and LayerCAM (jacobgil/pytorch-grad-cam, imported and stubbed as
scripts/golden/explain_cam.py does: cv2/tqdm/ttach/torchvision stubs, scale_cam_image replaced by a raw
bilinear upsampling, so no cv2 is needed) on ResNet-20 in eval mode at its last block, the maps
`npm run bench cam` times in csgnet. Run with Debian's /usr/bin/python3. Prints one JSON line."""
import argparse, json, os, sys, time
import torch
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'scripts', 'golden'))
from pytorch_step import CifarResNet  # noqa: E402
from explain_cam import raw_upsample, reference_dir, stub_modules  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--method', choices=['scorecam', 'layercam'], required=True)
p.add_argument('--images', type=int, default=32)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--score-batch', type=int, default=64)
p.add_argument('--input', default='3x32x32')
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
sys.argv = sys.argv[:1]   # reference_dir() reads an optional folder argument
torch.set_num_threads(a.threads)
stub_modules()
ref, _ = reference_dir()
sys.path.insert(0, ref)
import pytorch_grad_cam as pgc  # noqa: E402
import pytorch_grad_cam.base_cam as base_cam  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402
base_cam.scale_cam_image = raw_upsample

c, h, w = map(int, a.input.split('x'))
torch.manual_seed(0)
model = CifarResNet(20, c, 10).eval()
x_all = torch.randn(a.images, c, h, w)
y_all = torch.randint(0, 10, (a.images,))
cam = (pgc.ScoreCAM if a.method == 'scorecam' else pgc.LayerCAM)(model=model, target_layers=[model.layer3])
cam.batch_size = a.score_batch


def run():
    for i in range(0, a.images, a.batch):
        cam(input_tensor=x_all[i:i + a.batch], targets=[ClassifierOutputTarget(int(t)) for t in y_all[i:i + a.batch]])


run()  # warm-up
t0 = time.perf_counter()
run()
s = time.perf_counter() - t0
print(json.dumps({'impl': 'pytorch-grad-cam', 'bench': 'cam', 'method': a.method, 'images': a.images, 'batch': a.batch,
                  'score_batch': a.score_batch, 'threads': a.threads, 'maps_per_s': a.images / s}))
