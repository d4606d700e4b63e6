// The JSON files csgnet writes about a run, as types, defined once: analysis.json (analyze, compare,
// report), localization.json (localize), adversarial.json (adversarial) and comparison.json (compare).
// Their writers, the terminal formatting, the report and compare import these; types only (and two
// name lists), so that reading a result costs no libtorch. Where they live: RunDir (run_dir.ts).
// Key case: snake_case at the top levels; the metric objects inside localization.json keep the
// camelCase their src/metrics classes return (meanIoU, hitRate), as files already written have them.
import type { AttackName } from '../attack/names.js';
import type { DetectorName } from '../detect/base.js';
import type { Target } from '../explain/base.js';

/** The checkpoint a result was computed from: its path (relative to the run folder, absolute when outside it),
 *  size and SHA-256, and the run folder's real path (absent in results of older csgnets). */
export interface CheckpointKey { file: string; bytes: number; sha256: string; run?: string }

/**
 * Everything that produced an analysis: which checkpoint, split, image limit and MI options (defaults
 * filled in). A cached analysis.json is reused only when its key equals the wanted one.
 */
export interface AnalysisKey {
  /** 2: images normalized with the run's training statistics on every split (1 used the split's own). */
  version: 2;
  checkpoint: CheckpointKey;
  split: 'test' | 'train' | 'val';
  /** First N images (0 = all). */
  limit: number;
  mi: { n_neighbors: number; random_state: number | null; balance_negatives: boolean; balance_seed: number | null; normalize_columns: boolean };
}

/** analysis.json. */
export interface AnalysisResult {
  /** What produced this analysis (see AnalysisKey). */
  key: AnalysisKey;
  run: string;
  checkpoint: string;
  split: string;
  n: number;
  classes: string[];
  accuracy: number;
  mis: number;
  /** [C][K] */
  mi_matrix: number[][];
  density: number | null;
  assignment: { gate: number[] | null; mi: number[] };
  agreement: number | null;
  related_filters: { gate: number[] | null; mi: number[] };
  specificity: number[];
  mean_specificity: number;
  specificity_histogram: { edges: number[]; counts: number[] };
  /** With only the filters assigned to class c kept (gate assignment for CSG, MI otherwise): class c vs rest over all images. */
  class_filter_accuracy: { assignment: 'gate' | 'mi'; recall: number[]; specificity: number[]; balanced: number[]; mean_balanced: number };
  seconds: { features: number; mi: number };
}

export const LOCALIZE_METHODS = ['cam', 'gradcam', 'gradcampp', 'csgcam', 'activmap', 'gradmap'] as const;
export type LocalizeMethod = typeof LOCALIZE_METHODS[number];

/** Which images were scored, as localization.json records it. */
export interface LocalizedDatasetInfo {
  name: string;
  root: string | null;
  /** True when it is the run's own dataset (its config's name, folder and settings). */
  own: boolean;
  canvas: number | null;
  distractors: number | null;
}

/** localization.json. */
export interface LocalizationReport {
  run: string;
  checkpoint: string;
  /** The checkpoint's key: compare and report show only a localization of the run's own checkpoint. */
  checkpoint_key: CheckpointKey;
  epoch: number;
  strategy: string;
  settings: {
    dataset: LocalizedDatasetInfo; split: string; images: number; target: Target; methods: LocalizeMethod[];
    height: number; width: number; gradmap_filters: number;
  };
  classes: string[];
  /** Per method: every metric overall and per class (class-map methods; on VOC Part also part_pointing,
   *  the pointing game per part), or its own protocol (ActivMap, GradMap). */
  methods: Partial<Record<LocalizeMethod, unknown>>;
}

/** The class-map methods compare shows, in column order (the paper's CSG-CAM first, then its baseline). */
export const COMPARED_METHODS = ['csgcam', 'cam'] as const;
export type ComparedMethod = typeof COMPARED_METHODS[number];

/** Overall figures of one class-map method (null where localization.json has none, e.g. NaN). */
export interface MethodSummary {
  /** Top-30 % IoU: mean over images, and the share above 0.3. */
  mean_iou: number | null;
  hit_rate: number | null;
  max_box_acc_v2: number | null;
  pxap: number | null;
}

/** What compare shows of a localization.json. */
export interface LocalizationSummary {
  file: string;
  split: string;
  images: number;
  epoch: number;
  methods: Partial<Record<ComparedMethod, MethodSummary>>;
}

export interface DetectorMetrics {
  auroc: number; tnr_at_95_tpr: number; detection_accuracy: number;
  /** Score thresholds (flagged when score >= threshold) reaching the TNR at 95 % TPR and the detection accuracy. */
  tnr_threshold: number; accuracy_threshold: number;
  /** The ROC read on a regular FPR grid (report/roc.ts thinRoc). */
  roc: { fpr: number[]; tpr: number[] };
}
export type DetectorOutcome = DetectorMetrics | { skipped: string };

/** One attack setting of adversarial.json. */
export interface SettingResult {
  key: string;
  attack: AttackName | 'pgd-adaptive';
  eps: number | null;
  adaptive_weight: number | null;
  /** The attack's options (the adaptive loss aside). */
  options: Record<string, unknown>;
  attacked: number;
  successful: number;
  success_rate: number;
  /** Mean distances over the successful images (null when none). */
  mean_linf: number | null;
  mean_l2: number | null;
  /** Model forward passes per attacked image, and the attack's wall time (absent in results written before they were recorded). */
  queries_per_image?: number;
  seconds?: number;
  /** Successful images whose noisy copy is still classified correctly. */
  selected: number;
  fit: { images: number; samples: number };
  eval: { images: number; samples: number };
  detectors: Partial<Record<DetectorName, DetectorOutcome>>;
}

export interface TransferResult { fit: string; test: string; detectors: Partial<Record<DetectorName, DetectorOutcome>> }

/** adversarial.json. */
export interface AdversarialReport {
  run: string; checkpoint: string; epoch: number; model: string; strategy: string;
  /** The checkpoint attacked: compare and report show only results of the run's own checkpoint. */
  checkpoint_key: CheckpointKey;
  protocol: string;
  settings: {
    split: string; images: number; attacks: AttackName[]; eps: number[]; l2_eps: number[]; detectors: DetectorName[]; fit_fraction: number; seed: number;
    adaptive_weights: number[]; transfer: boolean; fit_train_images: number; batch: number; noise: string; cw: string;
  };
  classes: string[];
  clean: { images: number; correct: number; accuracy: number };
  split: { fit_images: number[]; eval_images: number };
  attacks: SettingResult[];
  transfer: TransferResult[];
}

/** One row of comparison.json (one run). */
export interface ComparisonRow {
  run: string; model: string; strategy: string; accuracy: number; density: number | null; mis: number;
  mean_specificity: number; agreement: number | null; class_filter_accuracy: number;
  /** RUN/localization/localization.json's figures when it is current (this split, the last checkpoint), else null. */
  localization: LocalizationSummary | null;
  /** From RUN/adversarial/adversarial.json (csgnet adversarial) when made from this run's last checkpoint, else null. */
  gate_auroc_pgd: number | null;
}
