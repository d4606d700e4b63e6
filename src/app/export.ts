// `csgnet export`: a run's model (a checkpoint) as an ONNX file with its classes, normalisation and
// gate in the metadata. The normalisation is that of the split `csgnet eval` reads by default (test):
// the exported graph then gives what eval computes for the same images.
import { basename, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openRun, runDataset, type OpenRun } from '../csg/run.js';
import { exportOnnx, readOnnxMetadata, type OnnxModelInfo, type OnnxOutput } from '../export/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { writingOutput } from './outputs.js';

export interface ExportRunOptions {
  /** A run folder, or a run opened already. */
  run: string | OpenRun;
  /** 'last', 'best' or a checkpoint file (when run is a folder). */
  checkpoint?: string;
  outputs?: readonly OnnxOutput[];
  includeNormalization?: boolean;
  /** The split whose normalisation statistics the graph's input uses (default test, as csgnet eval). */
  split?: 'test' | 'train' | 'val';
}

export interface ExportedRun { bytes: Uint8Array; info: OnnxModelInfo; run: OpenRun }

/** The ONNX bytes of a run's model (the explorer reuses this), with the metadata as readOnnxMetadata parses it. */
export async function exportRunOnnx(o: ExportRunOptions): Promise<ExportedRun> {
  const run = typeof o.run === 'string' ? openRun(o.run, o.checkpoint ?? 'last') : o.run;
  const ds = await runDataset(run, o.split ?? 'test');
  const bytes = exportOnnx(run.model, {
    inputShape: [run.dataset.channels, run.dataset.height, run.dataset.width],
    outputs: o.outputs, includeNormalization: o.includeNormalization,
    normalization: { mean: ds.mean, std: ds.std }, classNames: run.dataset.classes, gate: run.gate?.weight ?? null,
    modelName: run.config.model,
    metadata: {
      // Names, not paths: exported files get published (explorer sites), and a path says too much.
      'csgnet.run': basename(run.dir), 'csgnet.checkpoint': basename(run.checkpoint), 'csgnet.epoch': String(run.epoch),
      'csgnet.strategy': run.config.strategy, 'csgnet.dataset': run.dataset.name, 'csgnet.normalization_split': o.split ?? 'test',
    },
  });
  return { bytes, info: readOnnxMetadata(bytes), run };
}

export interface ExportRunSummary { out: string; bytes: number; model: string; outputs: OnnxOutput[]; input: 'normalized' | 'unit'; inputShape: number[]; classes: number; gate: boolean; checkpoint: string; epoch: number }

/** Writes the run's ONNX model to `out` (atomically). */
export async function exportRunToFile(o: ExportRunOptions & { out: string }): Promise<ExportRunSummary> {
  if (typeof o.out !== 'string' || o.out.trim() === '') throw new Error('export: --out must name a file');
  const { bytes, info, run } = await exportRunOnnx(o);
  await writingOutput('--out', o.out, () => {
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileAtomic(o.out, bytes);
  });
  return { out: o.out, bytes: bytes.length, model: run.config.model, outputs: info.outputs, input: info.input, inputShape: info.inputShape,
    classes: info.numClasses, gate: info.gate !== null, checkpoint: run.checkpoint, epoch: run.epoch };
}
