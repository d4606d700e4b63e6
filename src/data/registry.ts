// One entry point for every dataset format.
import type { ImageDataset } from './dataset.js';
import { loadCifar } from './cifar.js';
import { firstImage, imageSizeOf, listClassFolders, loadImageFolder } from './imagefolder.js';
import { loadMnistLike, type Split } from './idx.js';
import { loadCluttered } from './cluttered.js';
import { loadVocPart } from './vocpart.js';
import { annotatedClasses, maskedLayout } from './masks.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { KNOWN_DATASETS, type DatasetName } from './names.js';
export { KNOWN_DATASETS, type DatasetName } from './names.js';

export interface LoadDatasetOptions {
  /** Data folder. fashion-mnist defaults to /usr/share/datasets/fashion-mnist; the others need it.
   *  cifar10/cifar100: the cifar-10-batches-bin / cifar-100-binary folder or its parent.
   *  imagefolder: root/<split>/<class>/... if root has train/, test/ or val/ subfolders,
   *  else root/<class>/... for either split. */
  root?: string;
  split: Split;
  /** imagefolder only: target size (default: the first image's size). */
  size?: number | [number, number];
  /** imagefolder only: load 1-channel images. */
  grayscale?: boolean;
  /** imagefolder only: decode concurrency. */
  concurrency?: number;
  /** cluttered-* only: canvas side (default 64), 8x8 distractors (default 6), generation seed (default 0). */
  canvas?: number;
  distractors?: number;
  clutterSeed?: number;
  /** voc-part only: also load the part masks (VocPartDataset.parts). */
  parts?: boolean;
}

/** Loads a dataset split; an empty one is an error naming the folder (every loader also checks its files). */
export async function loadDataset(name: string, opts: LoadDatasetOptions): Promise<ImageDataset> {
  const ds = await loadAny(name, opts);
  if (ds.length === 0) throw new Error(`${name} ${opts.split}: no samples in ${opts.root ?? 'the default folder'} (--data-root)`);
  return ds;
}

async function loadAny(name: string, opts: LoadDatasetOptions): Promise<ImageDataset> {
  if (!(KNOWN_DATASETS as readonly string[]).includes(name)) {
    throw new Error(`unknown dataset ${JSON.stringify(name)}; known datasets: ${KNOWN_DATASETS.join(', ')}`);
  }
  const n = name as DatasetName;
  if (opts.split !== 'train' && opts.split !== 'test') throw new Error(`${n}: split must be 'train' or 'test', got ${JSON.stringify(opts.split)}`);
  if (n !== 'fashion-mnist' && n !== 'cluttered-fashion-mnist' && opts.root === undefined) throw new Error(`${n}: no data folder given (pass --data-root DIR)`);
  switch (n) {
    case 'fashion-mnist':
    case 'mnist':
      return loadMnistLike(opts.root, opts.split, n);
    case 'voc-part':
      if (opts.size !== undefined && typeof opts.size !== 'number') throw new Error(`voc-part: size must be one number (square crops), got ${JSON.stringify(opts.size)} (--image-size)`);
      return loadVocPart(opts.root!, opts.split, { size: opts.size, concurrency: opts.concurrency, parts: opts.parts });
    case 'cluttered-fashion-mnist':
    case 'cluttered-mnist':
      return loadCluttered(n === 'cluttered-mnist' ? 'mnist' : 'fashion-mnist', opts.root, opts.split, { canvas: opts.canvas, distractors: opts.distractors, seed: opts.clutterSeed });
    case 'cifar10':
    case 'cifar100':
      return loadCifar(opts.root!, opts.split, n);
    case 'imagefolder': {
      // A root with train/ (or test/, val/) subfolders holds splits: require root/<split>.
      // Otherwise root itself is the class-folder tree, whatever the split.
      const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
      const root = opts.root!;
      const hasSplits = ['train', 'test', 'val'].some((s) => isDir(join(root, s)));
      const dir = hasSplits ? join(root, opts.split) : root;
      if (hasSplits && !isDir(dir)) throw new Error(`imagefolder: ${root} (--data-root) has split subfolders but no '${opts.split}' folder`);
      // The test split is labelled by the training split's classes (matched by folder name), and
      // without a size it takes the size of the training split's first image, so that a model
      // trained on train/ can be evaluated on test/.
      let classNames: string[] | undefined, size = opts.size;
      const trainDir = join(root, 'train');
      if (hasSplits && opts.split === 'test' && isDir(trainDir)) {
        const trainLayout = maskedLayout(trainDir);
        classNames = annotatedClasses(trainLayout) ?? listClassFolders(trainLayout?.images ?? trainDir);
        if (size === undefined) {
          const first = firstImage(trainLayout?.images ?? trainDir);
          if (first) size = await imageSizeOf(first);
        }
      }
      return loadImageFolder(dir, { size, grayscale: opts.grayscale, concurrency: opts.concurrency, classNames });
    }
  }
}
