// `csgnet export`: a run's model (a checkpoint) as an ONNX file with its classes, normalization and
// gate in the metadata. The normalization is the one the model was trained with (the training split's
// statistics, from config.json), as every command uses it: the graph gives what eval computes.
import { basename, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openRun, trainingNormalization, type OpenRun } from '../csg/run.js';
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
  /** Receives a note when an older run's training statistics have to be recomputed. */
  log?: (line: string) => void;
}

export interface ExportedRun { bytes: Uint8Array; info: OnnxModelInfo; run: OpenRun }

/** The ONNX bytes of a run's model (the explorer reuses this), with the metadata as readOnnxMetadata parses it. */
export async function exportRunOnnx(o: ExportRunOptions): Promise<ExportedRun> {
  const run = typeof o.run === 'string' ? openRun(o.run, o.checkpoint ?? 'last') : o.run;
  const normalization = await trainingNormalization(run, { log: o.log });
  const bytes = exportOnnx(run.model, {
    inputShape: [run.dataset.channels, run.dataset.height, run.dataset.width],
    outputs: o.outputs, includeNormalization: o.includeNormalization,
    normalization, classNames: run.dataset.classes, gate: run.gate?.weight ?? null,
    modelName: run.config.model,
    metadata: {
      // Names, not paths: exported files get published (explorer sites), and a path says too much.
      'csgnet.run': basename(run.dir), 'csgnet.checkpoint': basename(run.checkpoint), 'csgnet.epoch': String(run.epoch),
      'csgnet.strategy': run.config.strategy, 'csgnet.dataset': run.dataset.name, 'csgnet.normalization_split': 'train',
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
