"""Times batch preparation in PyTorch the way a torchvision training script does it:
Dataset.__getitem__ applies RandomCrop(size, padding) -> RandomHorizontalFlip -> ToTensor ->
Normalize to one uint8 image, DataLoader(shuffle=True, num_workers=0) collates the batch.
The transforms are written with torch ops (exactly torchvision's semantics) so that only
python3-torch is needed. Run with Debian's /usr/bin/python3; prints one JSON line."""
import argparse, json, time
import torch
import torch.nn.functional as F


class Synthetic(torch.utils.data.Dataset):
    def __init__(self, n, c, h, w, pad):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randint(0, 256, (n, c, h, w), dtype=torch.uint8, generator=g)
        self.y = torch.arange(n) % 10
        self.pad, self.h, self.w = pad, h, w
        self.mean = torch.full((c, 1, 1), 0.5)
        self.std = torch.full((c, 1, 1), 0.25)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        img = self.x[i]
        if self.pad:
            img = F.pad(img, (self.pad,) * 4)  # RandomCrop(padding=p): zero padding of the raw image
            dy, dx = torch.randint(0, 2 * self.pad + 1, (2,)).tolist()
            img = img[:, dy:dy + self.h, dx:dx + self.w]
        if torch.rand(1).item() < 0.5:
            img = img.flip(-1)
        return (img.float().div(255) - self.mean) / self.std, self.y[i]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--input', default='3x128x128')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--batches', type=int, default=40)
    p.add_argument('--crop-padding', type=int, default=4)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    c, h, w = map(int, a.input.split('x'))
    ds = Synthetic(a.batch * a.batches, c, h, w, a.crop_padding)
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=0)
    for _ in dl:  # warm-up
        pass
    t0 = time.perf_counter()
    n = 0
    for x, _ in dl:
        n += 1
    ms = (time.perf_counter() - t0) * 1000 / n
    print(json.dumps({'impl': 'pytorch', 'input': a.input, 'batch': a.batch, 'batches': n, 'prep_ms_per_batch': ms}))


if __name__ == '__main__':
    main()
