"""Times one CSG epoch of the PyTorch reference (../shared/reference/csg_reference.py) on
Fashion-MNIST: the reference's own model, data loading, augmentation and step, as in its main loop,
with every epoch a CSG epoch. Prints {"images_per_s", "seconds"} for the training loop alone
(evaluation excluded, as in csgnet's per-epoch `seconds`). Run with Debian's /usr/bin/python3."""
import argparse, json, os, sys, time
import numpy as np
import torch, torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('CSG_REFERENCE_DIR', os.path.join(here, '..', '..', 'shared', 'reference')))
import csg_reference as ref  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    p.add_argument('--limit', type=int, default=6400)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--lambda-reg', type=float, default=0.1)
    p.add_argument('--density-target', type=float, default=0.1)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0); np.random.seed(0)
    trx, try_, _, _ = ref.load_fashion(a.data)
    trx, try_ = trx[:a.limit], try_[:a.limit]
    model = ref.ResNet20(1, 10)
    params = [q for n_, q in model.named_parameters() if n_ != 'gate']
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    opt_gate = torch.optim.SGD([model.gate], lr=0.1, momentum=0.9)
    model.train()
    t0 = time.perf_counter()
    perm = torch.randperm(trx.shape[0])
    for i in range(0, trx.shape[0], a.batch):
        idx = perm[i:i + a.batch]
        x, y = trx[idx], try_[idx]
        x = F.pad(x, (2, 2, 2, 2))
        dx, dy = np.random.randint(0, 5, 2)
        x = x[:, :, dy:dy + 28, dx:dx + 28]
        if np.random.rand() < 0.5: x = x.flip(3)
        opt.zero_grad(); opt_gate.zero_grad()
        out = model(x, y)
        reg = F.relu(model.gate.abs().sum() - a.density_target * model.gate.numel())
        loss = F.cross_entropy(out, y) + a.lambda_reg * reg
        loss.backward(); opt.step(); opt_gate.step()
        with torch.no_grad():
            g = model.gate / model.gate.max(dim=1, keepdim=True)[0].clamp_min(1e-12)
            model.gate.copy_(g.clamp(0, 1))
        loss.item(); (out.argmax(1) == y).sum().item()
    sec = time.perf_counter() - t0
    print(json.dumps({'impl': 'reference', 'images': trx.shape[0], 'seconds': sec, 'images_per_s': trx.shape[0] / sec,
                      'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
