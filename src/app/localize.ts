// `csgnet localize`: every explainer of a run's model on a dataset with masks, scored by every
// localization metric, per class and overall (method.md section 5). Up to three passes over the images:
// one per whole-set statistic that a chosen method needs (per-class mean activations, for CSG-CAM of an
// STD model and GradMap's top filters; ActivMap's per-filter thresholds), then one that explains batch
// by batch. Class maps are kept whole (N x H x W floats per method) for the set-level metrics; the
// per-filter methods are scored a batch at a time (their maps would be N x K x H x W). On VOC Part the
// class-map methods also get the pointing game per part (partPointing, from the part masks).
//
// Another dataset (LocalizeOptions.dataset, `--dataset`): a run is scored on any dataset with masks
// whose images fit its model: the same channel count, the same number of classes with the same names
// (compared as class folder names, so a folder written by `csgnet data cluttered` matches its source's
// 'T-shirt/top') and the run's image size. Every csgnet backbone ends in global average pooling, so it
// runs at any size from its minimum up; a size other than the run's is used only when asked for by name
// (--image-size, or --canvas for cluttered-*), never by accident. The images are normalized with the
// run's training statistics, as every split of every dataset is everywhere (csg/run.ts asTrained).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLUTTER_DEFAULTS, classFolderName, clutterCanvasRange, loadDataset, maskBox, type ImageDataset, type VocPartDataset } from '../data/index.js';
import { asTrained, openRun, runDataset, type OpenRun } from '../csg/run.js';
import { modelInfo } from '../models/registry.js';
import { InputAttribution, type AttributionSettings, type Target } from '../explain/index.js';
import { CLASS_MAP_METHODS, createExplainers, tensorBatches } from './explainers.js';
import {
  ActivMapAccumulator, EnergyPointingGame, GradMapIoU, MaxBoxAccV2, PointingGame, PxAP, TopFractionIoU, byClass, partPointing,
} from '../metrics/localization/index.js';
import { writeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../util/atomic.js';
import { heatColor } from '../report/html/overlay.js';
import { analysisKey } from './analysis_key.js';
import { LOCALIZATION_FILE, LOCALIZATION_OVERLAYS, RunDir } from '../csg/run_dir.js';
import { KNOWN_LOCALIZE_METHODS, type LocalizationReport, type LocalizeMethod, type LocalizedDatasetInfo } from '../csg/results.js';
import { checkOutputDir, stagedWrite, writingOutput } from './outputs.js';
import { FaithfulnessRun, type FaithfulnessRequest } from './faithfulness.js';

import { LOCALIZE_DEFAULTS as D } from './defaults.js';

export { LOCALIZE_METHODS, KNOWN_LOCALIZE_METHODS, type LocalizationReport, type LocalizeMethod, type LocalizedDatasetInfo } from '../csg/results.js';
/** What localize writes into its --out folder: an existing folder holding only these is replaced. */
export const LOCALIZE_FILES = [LOCALIZATION_FILE, LOCALIZATION_OVERLAYS, 'maps', 'masks.npy', 'labels.npy'];

/** A dataset with masks other than the run's own (`csgnet localize --dataset`). */
export interface LocalizeDataset {
  /** A loadDataset name (KNOWN_DATASETS). */
  name: string;
  /** Its data folder (--data-root). */
  root?: string;
  /** imagefolder, voc-part: the side the images are loaded at (default: the run's image size). Any
   *  dataset: a size other than the run's is accepted only when given here. */
  imageSize?: number;
  /** cluttered-*: canvas side (default: --image-size, else the run's image size) and distractors
   *  (default: the run's when it was trained on a cluttered dataset, else the generator's 6). */
  canvas?: number;
  distractors?: number;
}

export interface LocalizeOptions {
  run: string;
  checkpoint?: string;
  split?: 'test' | 'train' | 'val';
  /** Score on this dataset instead of the run's own. */
  dataset?: LocalizeDataset;
  /** Only the first N images (0 = all). */
  limit?: number;
  methods?: readonly LocalizeMethod[];
  target?: Target;
  /** The target layer of the gradient- and score-weighted methods, by its state-dict prefix (default: the last feature map). */
  layer?: string;
  batchSize?: number;
  /** GradMap's filters per class (method.md: 30). */
  gradMapFilters?: number;
  /** The input attributions' settings (IG steps and baseline, SmoothGrad noise, occlusion window, ...). */
  attribution?: AttributionSettings;
  /** Also write maps/<method>.npy [N, H, W] float32, masks.npy and labels.npy. */
  saveMaps?: boolean;
  /** Output folder; default RUN/localization (where compare looks), required with `dataset`. */
  out?: string;
  log?: (line: string) => void;
  /** Called after each batch of the explaining pass. */
  progress?: (done: number, total: number) => void;
  /** Also score the class-map methods' faithfulness (--metrics; default none: the overlap metrics alone). */
  faithfulness?: FaithfulnessRequest;
}

/** The dataset's boxes, or each mask's tight box (x1, y1 inclusive) when the dataset has none. */
function boxesOf(ds: ImageDataset, n: number): Int32Array {
  if (ds.boxes) return ds.boxes.subarray(0, 4 * n);
  const { height: h, width: w } = ds;
  const out = new Int32Array(4 * n);
  for (let i = 0; i < n; i++) out.set(maskBox(ds.masks!, h, w, i * h * w) ?? [0, 0, 0, 0], 4 * i);
  return out;
}

const quote = (names: readonly string[]) => names.map((c) => `'${c}'`).join(', ');
const noMasks = (name: string, split: string) => new Error(`${name} (${split} split) has no object masks: localize needs a dataset with masks ` +
  '(cluttered-fashion-mnist, cluttered-mnist, an image folder with masks/, VOC Part)');

/** The run's own split, or `d` loaded to fit the run's model (module comment), with what to record. */
async function datasetToScore(run: OpenRun, runDir: string, split: 'test' | 'train' | 'val', d: LocalizeDataset | undefined,
  log?: (line: string) => void): Promise<{ ds: ImageDataset; about: LocalizedDatasetInfo }> {
  const c = run.config, cluttered = (name: string) => name.startsWith('cluttered-');
  if (!d) {
    // VOC Part's own splits with their part masks (per-part pointing); its held-out 'val' split without.
    const ds = c.dataset === 'voc-part' && split !== 'val'
      ? await loadDataset(c.dataset, { root: c.dataRoot, split, size: c.imageSize, parts: true })
      : await runDataset(run, split, { log });
    return { ds, about: { name: c.dataset, root: c.dataRoot ?? null, own: true,
      canvas: cluttered(c.dataset) ? ds.height : null, distractors: cluttered(c.dataset) ? (c.distractors ?? CLUTTER_DEFAULTS.distractors) : null } };
  }
  const trainedOn = `run ${runDir} (trained on ${c.dataset})`;
  if (split === 'val') throw new Error(`--split val is the held-out part of the run's own training data; with --dataset ${d.name} use train or test`);
  const isCluttered = cluttered(d.name);
  if (!isCluttered && (d.canvas !== undefined || d.distractors !== undefined)) {
    throw new Error(`--${d.canvas !== undefined ? 'canvas' : 'distractors'} applies only to the cluttered-* datasets, not to ${d.name}`);
  }
  if (isCluttered && d.canvas !== undefined && d.imageSize !== undefined && d.canvas !== d.imageSize) {
    throw new Error(`--canvas ${d.canvas} and --image-size ${d.imageSize} disagree (for ${d.name} both are the image side)`);
  }
  const { channels, height: rh, width: rw, classes } = run.dataset;
  const asked = isCluttered ? (d.canvas ?? d.imageSize) : d.imageSize;
  // Messages name the flag given, else the one to give (--canvas for cluttered-*).
  const sizeFlag = d.canvas !== undefined ? '--canvas' : d.imageSize !== undefined ? '--image-size' : isCluttered ? '--canvas' : '--image-size';
  const distractors = isCluttered ? (d.distractors ?? (cluttered(c.dataset) ? c.distractors : undefined) ?? CLUTTER_DEFAULTS.distractors) : null;
  if (isCluttered) {
    const [lo, hi] = clutterCanvasRange(), canvas = asked ?? rh;
    if (!(canvas >= lo && canvas <= hi)) {
      const who = asked !== undefined ? `${sizeFlag} ${canvas}` : `the canvas (by default the image side of ${trainedOn}, ${rh})`;
      throw new Error(`${who} is outside ${d.name}'s canvas sides [${lo}, ${hi}] (its largest scaled 28x28 item must fit); ` +
        `pass --canvas N in that range to score at that size anyway (the model ends in global average pooling)`);
    }
  }
  const ds = await loadDataset(d.name, {
    root: d.root, split,
    size: d.name === 'imagefolder' ? (asked !== undefined ? asked : [rh, rw]) : d.name === 'voc-part' ? (asked ?? rh) : undefined,
    grayscale: d.name === 'imagefolder' ? channels === 1 : undefined,
    canvas: isCluttered ? (asked ?? rh) : undefined,
    distractors: distractors ?? undefined,
    parts: d.name === 'voc-part' ? true : undefined,
  });
  // First: without masks no other setting helps (no size to suggest).
  if (!ds.masks) throw noMasks(d.name, split);
  if (ds.channels !== channels) throw new Error(`${d.name} images have ${ds.channels} channel(s) but ${trainedOn} takes ${channels}`);
  if (ds.numClasses !== classes.length) {
    throw new Error(`${d.name} has ${ds.numClasses} classes (${quote(ds.classNames)}) but ${trainedOn} has ${classes.length} (${quote(classes)})`);
  }
  const differ = classes.flatMap((name, k) => (classFolderName(name) === classFolderName(ds.classNames[k]!) ? [] : [`label ${k}: '${ds.classNames[k]}' vs '${name}'`]));
  if (differ.length) throw new Error(`${d.name} names its classes differently from ${trainedOn}: ${differ.join(', ')}`);
  if (ds.height !== rh || ds.width !== rw) {
    if (asked === undefined) {
      throw new Error(`${d.name} images are ${ds.width}x${ds.height} but ${trainedOn} takes ${rw}x${rh}; pass ${sizeFlag} ${Math.min(ds.height, ds.width)} ` +
        'to score at that size anyway (the model ends in global average pooling)');
    }
    if (ds.height !== asked || ds.width !== asked) throw new Error(`${sizeFlag} ${asked}: ${d.name} images are ${ds.width}x${ds.height} (this dataset is not resized)`);
    const min = modelInfo(c.model).minInputSize;
    if (asked < min) throw new Error(`${sizeFlag} ${asked} is below the smallest input of ${c.model} (${min})`);
    log?.(`scoring at ${ds.width}x${ds.height}, not the run's ${rw}x${rh} (asked for by ${sizeFlag})`);
  }
  return { ds, about: { name: d.name, root: d.root ?? null, own: false, canvas: isCluttered ? ds.height : null, distractors } };
}

export async function localizeRun(o: LocalizeOptions): Promise<{ report: LocalizationReport; files: string[] }> {
  const methods = [...(o.methods ?? D.methods)];
  for (const m of methods) if (!KNOWN_LOCALIZE_METHODS.includes(m)) throw new Error(`--methods: unknown method '${m}' (known: ${KNOWN_LOCALIZE_METHODS.join(', ')})`);
  const ownDir = new RunDir(o.run, '--run').localizationDir;
  if (o.dataset && !o.out) throw new Error(`--out is required with --dataset (${ownDir} is the run's own dataset's localization, which compare reads)`);
  const outDir = o.out ?? ownDir;
  // Before any work: the folder is replaced as a whole once the new results are complete.
  checkOutputDir('--out', outDir, { runs: [o.run], mode: 'replace', owns: LOCALIZE_FILES, suggest: ownDir });
  const split = o.split ?? 'test', target = o.target ?? D.target, batchSize = o.batchSize ?? D.batchSize, topN = o.gradMapFilters ?? D.gradMapFilters;
  const run = openRun(o.run, o.checkpoint ?? 'last');
  const scored = await datasetToScore(run, o.run, split, o.dataset, o.log);
  const about = scored.about, ds = await asTrained(run, scored.ds, { log: o.log });
  if (!ds.masks) throw noMasks(about.name, split);
  const n = o.limit ? Math.min(o.limit, ds.length) : ds.length;
  const { height: H, width: W } = ds, hw = H * W, C = ds.numClasses;
  const masks = ds.masks.subarray(0, n * hw);
  const boxes = boxesOf(ds, n);
  const labels = Int32Array.from(ds.labels.subarray(0, n));
  const parts = (ds as VocPartDataset).parts;
  const model = run.model;
  model.eval();

  // The whole-set passes (inside createExplainers): each statistic only where a chosen method needs it.
  const { explainers, thresholds } = createExplainers(run, methods, () => tensorBatches(run, ds, n, batchSize),
    { target, layer: o.layer, gradMapFilters: topN, attribution: o.attribution });

  const attribution = [...explainers].flatMap(([m, e]) => (e instanceof InputAttribution ? [[m, e] as const] : []));

  // The last pass: explain and score.
  const classMaps = new Map<LocalizeMethod, Float32Array>();
  for (const m of methods) if (CLASS_MAP_METHODS.includes(m) || (m === 'gradmap' && o.saveMaps)) classMaps.set(m, new Float32Array(n * hw));
  const activ = thresholds ? new ActivMapAccumulator(model.numFilters, C, thresholds.toFloat64Array()) : null;
  const gradIoUs: number[] = [];
  const faith = o.faithfulness?.metrics.length ? new FaithfulnessRun(o.faithfulness, H) : null;
  let done = 0;
  for (const b of tensorBatches(run, ds, n, batchSize)) {
    const bMasks = masks.subarray(b.start * hw, (b.start + b.count) * hw);
    const bLabels = labels.subarray(b.start, b.start + b.count);
    for (const [m, ex] of explainers) {
      const e = ex.explain(b.x, b.labels);
      try {
        const maps = e.maps.contiguous().data() as Float32Array;
        if (m === 'activmap') activ!.add(maps, e.maps.shape as [number, number, number, number], bMasks, bLabels);
        else if (m === 'gradmap') {
          const shape = e.maps.shape as [number, number, number, number];
          gradIoUs.push(...new GradMapIoU(maps, bMasks, shape).records());
          // Saved as one map per image: the mean of its filters' maps.
          const keep = classMaps.get(m);
          if (keep) for (let i = 0; i < b.count; i++) for (let p = 0; p < hw; p++) {
            let s = 0;
            for (let f = 0; f < shape[1]; f++) s += maps[(i * shape[1] + f) * hw + p];
            keep[(b.start + i) * hw + p] = s / shape[1];
          }
        } else {
          classMaps.get(m)!.set(maps, b.start * hw);
          faith?.add(m, model, b.x, e.maps, e.targets);
        }
      } finally {
        e.maps.dispose(); e.targets.dispose(); e.filters?.dispose();
      }
    }
    done += b.count;
    o.progress?.(done, n);
  }

  const results: Partial<Record<LocalizeMethod, unknown>> = {};
  const shape = [n, H, W] as const;
  for (const m of methods) {
    if (m === 'activmap') { results[m] = activ!.result(); continue; }
    if (m === 'gradmap') {
      results[m] = byClass(gradIoUs, labels, C, (r) => GradMapIoU.summarize(r));
      continue;
    }
    const maps = classMaps.get(m)!;
    results[m] = {
      top30Iou: new TopFractionIoU(maps, masks, shape).evaluate(labels, C),
      maxBoxAccV2: new MaxBoxAccV2(maps, boxes, shape).evaluate(labels, C),
      pxap: new PxAP(maps, masks, shape).evaluate(labels, C),
      pointingGame: new PointingGame(maps, masks, shape).evaluate(labels, C),
      energyPointingGame: new EnergyPointingGame(maps, boxes, shape).evaluate(labels, C),
      ...(parts ? { partPointing: partPointing(maps, shape, { ...parts, offsets: parts.offsets.subarray(0, n + 1) }) } : {}),
      ...(faith ? { faithfulness: faith.summarize(m, labels, C) } : {}),
    };
  }

  const report: LocalizationReport = {
    run: o.run, checkpoint: run.checkpoint, checkpointKey: analysisKey(o.run, { checkpoint: o.checkpoint ?? 'last' }).checkpoint, epoch: run.epoch, strategy: run.config.strategy,
    settings: { dataset: about, split, images: n, target, methods, height: H, width: W, gradmapFilters: Math.min(topN, model.numFilters),
      ...(attribution.length ? { attribution: Object.fromEntries(attribution.map(([m, e]) => [m, e.settings()])) } : {}),
      ...(o.layer !== undefined ? { layer: o.layer } : {}),
      ...(faith ? { faithfulness: faith.settings } : {}) },
    classes: ds.classNames, methods: results,
  };
  const files = await writingOutput('--out', outDir, () => stagedWrite(outDir, async (dir) => {
    const written = [join(dir, LOCALIZATION_FILE)];
    writeFileAtomic(written[0], JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
    if (o.saveMaps) {
      mkdirSync(join(dir, 'maps'));
      for (const [m, maps] of classMaps) {
        const f = join(dir, 'maps', `${m}.npy`);
        writeNpy(f, maps, [n, H, W]);
        written.push(f);
      }
      writeNpy(join(dir, 'masks.npy'), masks, [n, H, W]);
      writeNpy(join(dir, 'labels.npy'), BigInt64Array.from(labels, (v) => BigInt(v)), [n]);
      written.push(join(dir, 'masks.npy'), join(dir, 'labels.npy'));
    }
    written.push(await writeOverlays(ds, classMaps, Math.min(n, 8), join(dir, LOCALIZATION_OVERLAYS)));
    return written;
  }));
  o.log?.(`localized ${n} images with ${methods.join(', ')}`);
  return { report, files };
}

/** A grid, one row per image: the image, its mask, then each class-map method's map (min-max, a heat colormap). */
async function writeOverlays(ds: ImageDataset, maps: Map<LocalizeMethod, Float32Array>, rows: number, file: string): Promise<string> {
  const { height: H, width: W, channels } = ds, hw = H * W;
  const cols = 2 + maps.size, pad = 2;
  const gw = cols * (W + pad) + pad, gh = rows * (H + pad) + pad;
  const rgb = new Uint8Array(gw * gh * 3).fill(255);
  const put = (r: number, c: number, pixel: (p: number) => [number, number, number]) => {
    const ox = pad + c * (W + pad), oy = pad + r * (H + pad);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgb.set(pixel(y * W + x), ((oy + y) * gw + ox + x) * 3);
  };
  for (let i = 0; i < rows; i++) {
    const img = ds.images.subarray(i * channels * hw, (i + 1) * channels * hw);
    put(i, 0, (p) => (channels >= 3 ? [img[p], img[hw + p], img[2 * hw + p]] : [img[p], img[p], img[p]]) as [number, number, number]);
    put(i, 1, (p) => (ds.masks![i * hw + p] ? [255, 255, 255] : [0, 0, 0]));
    let c = 2;
    for (const m of maps.values()) {
      const map = m.subarray(i * hw, (i + 1) * hw);
      let lo = Infinity, hi = -Infinity;
      for (const v of map) { if (v < lo) lo = v; if (v > hi) hi = v; }
      put(i, c++, (p) => heatColor(hi > lo ? (map[p] - lo) / (hi - lo) : 0));
    }
  }
  const { default: sharp } = await import('sharp');
  const png = await sharp(Buffer.from(rgb), { raw: { width: gw, height: gh, channels: 3 } }).png().toBuffer();
  writeFileAtomic(file, png);
  return file;
}
