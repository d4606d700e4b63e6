// `csgnet report`: gathers what the HTML report shows of each run folder (config, metrics, analysis,
// gate, filter gallery, localization, adversarial results) and writes the page (src/report/html/).
// A missing analysis is computed and cached in RUN/analysis exactly as `compare` does (same key);
// missing localization or adversarial results are left out; the page says what is missing and why.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as torch from '../torch/index.js';
import { BatchLoader, subset, type ImageDataset } from '../data/index.js';
import { openRun, runDataset, extractFeatures, type OpenRun } from '../csg/run.js';
import { ADVERSARIAL_FILE, ADVERSARIAL_MARKDOWN, LOCALIZATION_FILE, LOCALIZATION_OVERLAYS, RunDir, readMetrics, readRunInfo } from '../csg/run_dir.js';
import type { AnalysisResult, FaithfulnessReport, LocalizationReport } from '../csg/results.js';
import { gateAssignment } from '../metrics/analysis.js';
import { writeFileAtomic } from '../util/atomic.js';
import { packageRoot } from '../util/paths.js';
import { analysisKey, readCurrentResult, type AnalyzeOptions, type CheckpointKey } from './analysis_key.js';
import { isAdversarialReport } from '../report/adversarial_tables.js';
import { writingOutput } from './outputs.js';
import { REPORT_DEFAULTS } from './defaults.js';
import {
  dataUri, hstack, overlayRgb, renderReportHtml, vegaAssets,
  type ReportAdversarial, type ReportData, type ReportFaithfulness, type ReportGallery, type ReportLocalization, type ReportRun,
} from '../report/html/index.js';

export interface ReportOptions {
  runs: string[];
  /** The HTML file to write. */
  out: string;
  checkpoint?: string;
  split?: 'test' | 'train' | 'val';
  /** Compute a missing or stale analysis (default true); false shows what RUN/analysis holds, or says it is missing. */
  analyze?: boolean;
  /** Images of the analysis (0 = all, as compare). */
  analysisLimit?: number;
  /** Build the filter gallery (default true). */
  gallery?: boolean;
  /** The gallery searches the first N images of the split (default 2000). */
  galleryImages?: number;
  filtersPerClass?: number;
  imagesPerFilter?: number;
  /** Gallery thumbnails larger than this (pixels) are scaled down. */
  thumbnail?: number;
  title?: string;
  log?: (line: string) => void;
}

/** The run's analysis.json with the wanted key, else computed (and cached) or, without `analyze`, none and a note. */
async function runAnalysis(dir: string, opts: AnalyzeOptions, analyze: boolean, notes: string[], log: (s: string) => void): Promise<AnalysisResult | null> {
  const rd = new RunDir(dir, '--run');
  const { result: cached, why } = readCurrentResult<AnalysisResult>(rd.analysisFile, analysisKey(dir, opts));
  if (cached) return cached;
  if (!analyze) {
    notes.push(why ? `analysis not shown: ${why} (csgnet report without --no-analyze recomputes it)`
      : `no analysis in ${rd.analysisDir} (run csgnet analyze, or csgnet report without --no-analyze)`);
    return null;
  }
  log(`analyzing ${dir} (features, MI matrix, figures)${why ? `: ${why}` : ''} ...`);
  const { analyzeRun, writeAnalysis } = await import('./run_analysis.js');
  const full = await analyzeRun(dir, { ...opts, log });
  await writeAnalysis(full, rd.analysisDir);
  notes.push(`analysis computed now${why ? ` (${why})` : ''} and cached in ${rd.analysisDir}`);
  return full.result;
}

/** Top `n` indices of values[i * stride + k] over i (largest first, ties by index). */
function topIndices(values: Float32Array, count: number, stride: number, k: number, n: number): number[] {
  const idx = Array.from({ length: count }, (_, i) => i);
  idx.sort((a, b) => values[b * stride + k]! - values[a * stride + k]! || a - b);
  return idx.slice(0, n);
}

/**
 * For each class, its filters (by the gate, else the analysis' MI assignment, else the class with the
 * highest mean activation), strongest first; for each filter the images of the first `galleryImages`
 * that activate it most, with its activation map overlaid, as one PNG strip.
 */
export async function filterGallery(run: OpenRun, ds: ImageDataset, o: {
  split: string; galleryImages: number; filtersPerClass: number; imagesPerFilter: number; thumbnail: number; miAssignment?: number[] | null;
}): Promise<ReportGallery> {
  const C = ds.numClasses;
  const { features, labels, n, k: K } = extractFeatures(run.model, ds, o.galleryImages, run.config.memoryFormat);
  const classMean = Array.from({ length: C }, () => new Float64Array(K));
  const counts = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    counts[labels[i]!]++;
    for (let k = 0; k < K; k++) classMean[labels[i]!]![k] += features[i * K + k]!;
  }
  for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) classMean[c]![k] /= Math.max(1, counts[c]!);
  const G = run.gate ? run.gate.toArray() : null;
  let assignment: ArrayLike<number>, how: ReportGallery['assignment'];
  if (G) { assignment = gateAssignment(G, K, C); how = 'gate'; }
  else if (o.miAssignment && o.miAssignment.length === K) { assignment = o.miAssignment; how = 'mi'; }
  else {
    assignment = Array.from({ length: K }, (_, k) => { let best = 0; for (let c = 1; c < C; c++) if (classMean[c]![k]! > classMean[best]![k]!) best = c; return best; });
    how = 'activation';
  }
  const perClass = Array.from({ length: C }, (_, c) => {
    const all = Array.from({ length: K }, (_, k) => k).filter((k) => assignment[k] === c);
    all.sort((a, b) => (G ? G[b]![c]! - G[a]![c]! : 0) || classMean[c]![b]! - classMean[c]![a]! || a - b);
    return { all, shown: all.slice(0, o.filtersPerClass) };
  });
  const chosen = [...new Set(perClass.flatMap((p) => p.shown))].sort((a, b) => a - b);
  const tops = new Map(chosen.map((k) => [k, topIndices(features, n, K, k, o.imagesPerFilter)]));
  // The maps of each (filter, image) pair shown: one forward over the images needed, only the chosen filters upsampled.
  const needed = [...new Set([...tops.values()].flat())].sort((a, b) => a - b);
  const { height: H, width: W, channels: CH } = ds, hw = H * W;
  const maps = new Map<string, Float32Array>();
  if (chosen.length) {
    const wantByImage = new Map<number, number[]>();
    for (const [k, imgs] of tops) for (const i of imgs) wantByImage.set(i, [...(wantByImage.get(i) ?? []), k]);
    const chosenPos = new Map(chosen.map((k, j) => [k, j]));
    const loader = new BatchLoader(subset(ds, needed), { batchSize: 16, shuffle: false });
    torch.noGrad(() => {
      for (const b of loader.epoch(0)) {
        torch.tidy(() => {
          const x = torch.fromTypedArray(b.x, b.shape).contiguous(run.config.memoryFormat);
          const a = run.model.features(x).indexSelect(1, torch.tensor(chosen, { dtype: 'int64' }));
          const up = torch.F.interpolate(a.contiguous(), { size: [H, W], mode: 'bilinear', alignCorners: false }).contiguous().data() as Float32Array;
          for (let r = 0; r < b.y.length; r++) {
            const img = needed[b.indices[r]!]!;
            for (const k of wantByImage.get(img) ?? []) {
              const off = (r * chosen.length + chosenPos.get(k)!) * hw;
              maps.set(`${k}:${img}`, up.slice(off, off + hw));
            }
          }
        });
      }
    });
  }
  const { default: sharp } = await import('sharp');
  const strip = async (k: number, imgs: number[]): Promise<string> => {
    let scale = 0;
    for (const i of imgs) for (const v of maps.get(`${k}:${i}`)!) if (v > scale) scale = v;
    const tiles = imgs.map((i) => overlayRgb(ds.images.subarray(i * CH * hw, (i + 1) * CH * hw), CH, H, W, maps.get(`${k}:${i}`)!, scale));
    const s = hstack(tiles, H, W, 2);
    let img = sharp(Buffer.from(s.rgb), { raw: { width: s.width, height: s.height, channels: 3 } });
    if (H > o.thumbnail) img = img.resize({ height: o.thumbnail });
    // JPEG: the blended heat colors compress about 4x better than PNG (about 10 KB per strip of 48 px images).
    return dataUri('image/jpeg', await img.jpeg({ quality: 85, chromaSubsampling: '4:4:4' }).toBuffer());
  };
  const classes: ReportGallery['classes'] = [];
  for (let c = 0; c < C; c++) {
    const filters = [];
    for (const k of perClass[c]!.shown) {
      const imgs = tops.get(k)!;
      filters.push({
        filter: k, gate: G ? G[k]![c]! : null, classMean: classMean[c]![k]!, strip: await strip(k, imgs),
        images: imgs.map((i) => ({ index: i, label: ds.classNames[labels[i]!] ?? String(labels[i]), activation: features[i * K + k]! })),
      });
    }
    classes.push({ name: ds.classNames[c] ?? String(c), assigned: perClass[c]!.all.length, filters });
  }
  return { assignment: how, images: n, split: o.split, perFilter: o.imagesPerFilter, classes };
}

const MAX_INLINE_IMAGE = 4 << 20;

/** A result file of this run's checkpoint `want`, else null; a note says why one that is there is left out. */
function ownResult<T>(file: string, want: CheckpointKey | null, notes: string[]): T | null {
  if (!want) {
    if (existsSync(file)) notes.push(`not shown: ${file}: the run's checkpoint cannot be read`);
    return null;
  }
  const { result, why } = readCurrentResult<T>(file, want);
  if (why) notes.push(`not shown: ${why}`);
  return result;
}

function localizationOf(rd: RunDir, notes: string[], want: CheckpointKey | null): ReportLocalization | null {
  // RUN/localization, else where localize wrote by default before it.
  for (const dir of [rd.localizationDir, rd.olderLocalizationDir]) {
    const file = join(dir, LOCALIZATION_FILE);
    if (!existsSync(file)) continue;
    const json = ownResult<LocalizationReport>(file, want, notes);
    if (!json) return null;
    const png = join(dir, LOCALIZATION_OVERLAYS);
    let overlays: string | null = null;
    if (existsSync(png)) {
      if (statSync(png).size <= MAX_INLINE_IMAGE) overlays = dataUri('image/png', readFileSync(png));
      else notes.push(`${png} is larger than ${MAX_INLINE_IMAGE >> 20} MB: not inlined`);
    }
    return { file, json, overlays };
  }
  return null;
}

function faithfulnessOf(rd: RunDir, notes: string[], want: CheckpointKey | null): ReportFaithfulness | null {
  const json = ownResult<FaithfulnessReport>(rd.faithfulnessFile, want, notes);
  return json ? { file: rd.faithfulnessFile, json } : null;
}

function adversarialOf(rd: RunDir, notes: string[], want: CheckpointKey | null): ReportAdversarial | null {
  // Shown from adversarial.json (it carries the checkpoint key); adversarial.md is its text rendering.
  const file = rd.adversarialFile, md = join(rd.adversarialDir, ADVERSARIAL_MARKDOWN);
  if (!existsSync(file) && existsSync(md)) notes.push(`not shown: ${md} has no ${ADVERSARIAL_FILE} beside it (the JSON carries the checkpoint key and the figures)`);
  const json = ownResult<unknown>(file, want, notes);
  if (!json) return null;
  if (!isAdversarialReport(json)) {
    notes.push(`not shown: ${file} lacks the attacks, transfer, settings or clean figures of an adversarial.json (rerun csgnet adversarial --run ${rd.dir})`);
    return null;
  }
  return { file, json };
}

/** Everything the page shows of one run folder. */
export async function gatherRun(dir: string, o: Omit<ReportOptions, 'runs' | 'out'> = {}): Promise<ReportRun> {
  const log = o.log ?? (() => {});
  const info = readRunInfo(dir);
  const rd = new RunDir(dir, '--run');
  const config = rd.readConfig<Record<string, unknown>>();
  const notes: string[] = [];
  const checkpoint = o.checkpoint ?? 'last';
  const split = o.split ?? 'test';
  const metrics = readMetrics(dir);
  let run: OpenRun | null = null;
  try {
    run = openRun(dir, checkpoint);
  } catch (e) {
    notes.push(`model not opened (${(e as Error).message}): no gate, no gallery, and the analysis only if cached`);
  }
  // Results in the run folder are shown only when they are of this checkpoint of this run (their checkpoint key).
  let want: CheckpointKey | null = null;
  try { want = analysisKey(dir, { checkpoint }).checkpoint; } catch { /* no checkpoint: the note above says so */ }
  let analysis: AnalysisResult | null = null;
  try {
    analysis = await runAnalysis(dir, { split, checkpoint, limit: o.analysisLimit ?? REPORT_DEFAULTS.analysisLimit }, (o.analyze ?? true) && run !== null, notes, log);
  } catch (e) {
    notes.push(`analysis failed: ${(e as Error).message}`);
  }
  let gallery: ReportGallery | null = null;
  if (run && (o.gallery ?? true)) {
    log(`filter gallery of ${dir} ...`);
    const ds = await runDataset(run, split, { log });
    gallery = await filterGallery(run, ds, {
      split, galleryImages: o.galleryImages ?? REPORT_DEFAULTS.galleryImages, filtersPerClass: o.filtersPerClass ?? REPORT_DEFAULTS.filtersPerClass, imagesPerFilter: o.imagesPerFilter ?? REPORT_DEFAULTS.imagesPerFilter,
      thumbnail: o.thumbnail ?? 64, miAssignment: analysis?.assignment.mi ?? null,
    });
  }
  const out: ReportRun = {
    name: dir, config, model: info.config.model, strategy: info.config.strategy, dataset: info.dataset.name, classes: info.dataset.classes,
    checkpoint: run ? { file: run.checkpoint, epoch: run.epoch } : null, metrics, analysis, gate: run?.gate ? run.gate.toArray() : null,
    gallery, localization: localizationOf(rd, notes, want), adversarial: adversarialOf(rd, notes, want),
    faithfulness: faithfulnessOf(rd, notes, want), notes,
  };
  if (run) disposeRun(run);
  return out;
}

function disposeRun(run: OpenRun): void {
  run.model.dispose();
  run.gate?.weight.dispose();
}

export async function buildReport(o: ReportOptions): Promise<{ html: string; data: ReportData }> {
  if (!o.runs.length) throw new Error('report: name at least one run folder');
  for (const [flag, v, min] of [['--gallery-images', o.galleryImages, 1], ['--filters-per-class', o.filtersPerClass, 1], ['--images-per-filter', o.imagesPerFilter, 1]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Error(`report: ${flag} must be an integer >= ${min}, got ${v}`);
  }
  for (const dir of o.runs) readRunInfo(dir); // every folder is a run, before any work
  const runs: ReportRun[] = [];
  for (const dir of o.runs) runs.push(await gatherRun(dir, o));
  const version = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
  const data: ReportData = {
    title: o.title ?? (runs.length === 1 ? `csgnet report: ${runs[0]!.name}` : `csgnet report: ${runs.length} runs`),
    created: new Date().toISOString(), generator: `csgnet ${version}`, runs,
  };
  return { html: renderReportHtml(data, vegaAssets()), data };
}

/** Builds the report and writes it atomically to `o.out`. */
export async function writeReport(o: ReportOptions): Promise<{ file: string; bytes: number; data: ReportData }> {
  if (!o.out || !o.out.trim()) throw new Error('report: --out must name a file');
  if (existsSync(o.out) && statSync(o.out).isDirectory()) throw new Error(`report: --out ${o.out} is a folder; name the HTML file to write`);
  const { html, data } = await buildReport(o);
  await writingOutput('--out', o.out, () => {
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileAtomic(o.out, html);
  });
  return { file: o.out, bytes: Buffer.byteLength(html), data };
}
