// CIFAR-10 / CIFAR-100 readers for the "binary version" distributions
// (https://www.cs.toronto.edu/~kriz/cifar.html).
//
// CIFAR-10 (cifar-10-batches-bin/): data_batch_1..5.bin (train), test_batch.bin (test),
//   batches.meta.txt (class names, one per line). Record = 1 label byte + 3072 pixel bytes.
// CIFAR-100 (cifar-100-binary/): train.bin, test.bin, fine_label_names.txt,
//   coarse_label_names.txt. Record = coarse label byte + fine label byte + 3072 pixel bytes.
//   The fine labels (100 classes) are used.
// Pixels are 1024 R, then 1024 G, then 1024 B bytes, each 32x32 row-major: already CHW.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sharedBytes, type ImageDataset } from './dataset.js';
import { readFileNamed, type Split } from './idx.js';

export type CifarKind = 'cifar10' | 'cifar100';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export const CIFAR100_FINE_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

interface CifarSpec {
  folder: string;
  labelBytes: number;
  numClasses: number;
  files: Record<Split, string[]>;
  namesFile: string;
  defaultNames: string[];
  mean: number[];
  std: number[];
}

const SPECS: Record<CifarKind, CifarSpec> = {
  cifar10: {
    folder: 'cifar-10-batches-bin', labelBytes: 1, numClasses: 10,
    files: { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'] },
    namesFile: 'batches.meta.txt', defaultNames: CIFAR10_CLASSES,
    mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616],
  },
  cifar100: {
    folder: 'cifar-100-binary', labelBytes: 2, numClasses: 100,
    files: { train: ['train.bin'], test: ['test.bin'] },
    namesFile: 'fine_label_names.txt', defaultNames: CIFAR100_FINE_CLASSES,
    mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762],
  },
};

const PIXELS = 3 * 32 * 32;
/** batches.meta.txt / fine_label_names.txt hold a few hundred bytes. */
const MAX_NAMES_BYTES = 1 << 20;

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** Accepts the CIFAR folder itself or its parent; returns the folder holding the .bin files. */
export function resolveCifarDir(root: string, kind: CifarKind): string {
  const spec = SPECS[kind];
  if (!isDir(root)) throw new Error(`${kind}: data folder ${root} does not exist (--data-root)`);
  const probe = spec.files.test[0]!;
  const probeTrain = spec.files.train[0]!;
  if (existsSync(join(root, probe)) || existsSync(join(root, probeTrain))) return root;
  const sub = join(root, spec.folder);
  if (isDir(sub)) return sub;
  throw new Error(`${kind}: ${root} is neither the ${spec.folder} folder (no ${probeTrain} or ${probe} in it) nor its parent (no ${spec.folder} subfolder); check --data-root`);
}

function readClassNames(dir: string, spec: CifarSpec, kind: CifarKind): string[] {
  const p = join(dir, spec.namesFile);
  if (!existsSync(p)) return [...spec.defaultNames];
  if (statSync(p).size > MAX_NAMES_BYTES) throw new Error(`${p}: ${statSync(p).size} bytes, too large for a list of ${spec.numClasses} class names`);
  const names = readFileNamed(p).toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== spec.numClasses) throw new Error(`${p}: ${names.length} class names, expected ${spec.numClasses} for ${kind}`);
  return names;
}

/** Loads a CIFAR-10 or CIFAR-100 binary split. `root` is the cifar-10-batches-bin /
 *  cifar-100-binary folder or its parent. */
export function loadCifar(root: string, split: Split, kind: CifarKind): ImageDataset {
  const spec = SPECS[kind];
  if (!spec) throw new Error(`unknown CIFAR kind ${JSON.stringify(kind)} (known: cifar10, cifar100)`);
  if (split !== 'train' && split !== 'test') throw new Error(`${kind}: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const dir = resolveCifarDir(root, kind);
  const recordSize = spec.labelBytes + PIXELS;
  const paths = spec.files[split].map((f) => join(dir, f));
  for (const p of paths) if (!existsSync(p)) throw new Error(`${kind} ${split}: missing file ${p} (--data-root)`);
  const bufs: Buffer[] = [];
  let total = 0;
  for (const p of paths) {
    const b = readFileNamed(p);
    if (b.length === 0) throw new Error(`${p}: file is empty`);
    if (b.length % recordSize !== 0) {
      throw new Error(`${p}: size ${b.length} bytes is not a multiple of the ${recordSize}-byte ${kind} record (${Math.floor(b.length / recordSize)} whole records + ${b.length % recordSize} extra bytes); file truncated or not the binary version?`);
    }
    bufs.push(b);
    total += b.length / recordSize;
  }
  const images = sharedBytes(total * PIXELS);
  const labels = new Int32Array(total);
  let n = 0;
  for (let f = 0; f < bufs.length; f++) {
    const b = bufs[f]!;
    const count = b.length / recordSize;
    for (let r = 0; r < count; r++, n++) {
      const off = r * recordSize;
      if (kind === 'cifar100' && b[off]! >= 20) throw new Error(`${paths[f]}: coarse label ${b[off]} of record ${r} is out of range (CIFAR-100 has 20 coarse classes)`);
      const label = b[off + spec.labelBytes - 1]!;
      if (label >= spec.numClasses) throw new Error(`${paths[f]}: label ${label} of record ${r} is out of range (${kind} has ${spec.numClasses} classes)`);
      labels[n] = label;
      images.set(b.subarray(off + spec.labelBytes, off + recordSize), n * PIXELS);
    }
  }
  return {
    name: kind, numClasses: spec.numClasses, classNames: readClassNames(dir, spec, kind),
    channels: 3, height: 32, width: 32, length: total, images, labels, mean: [...spec.mean], std: [...spec.std],
  };
}
