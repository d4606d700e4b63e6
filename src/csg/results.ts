// The JSON files csgnet writes about a run, as types, defined once: analysis.json (analyze, compare,
// report), localization.json (localize), faithfulness.json (explain), adversarial.json (adversarial) and
// comparison.json (compare).
// Their writers, the terminal formatting, the report and compare import these; types only (and two
// name lists), so that reading a result costs no libtorch. Where they live: RunDir (run_dir.ts).
// Key case: localization.json is camelCase throughout (as the src/metrics objects it holds); every result
// file names its checkpoint key `checkpointKey`. Older files' snake_case keys are renamed when read
// (normalizeResultKeys). analysis.json, comparison.json and the rest of adversarial.json are snake_case.
import type { AttackName } from '../attack/names.js';
import type { DetectorName } from '../detect/base.js';
import type { Target } from '../explain/base.js';
import type { ByClass } from '../metrics/localization/per_class.js';
import type { FaithfulnessMetric, FaithfulnessSummary } from '../metrics/faithfulness/names.js';

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

/** The methods `localize` runs by default. */
export const LOCALIZE_METHODS = ['cam', 'gradcam', 'gradcampp', 'csgcam', 'activmap', 'gradmap'] as const;
/** The rest of pytorch-grad-cam's CAM family: class maps at any target layer, run when named in --methods. */
export const CAM_FAMILY_METHODS = ['scorecam', 'xgradcam', 'layercam', 'eigencam', 'hirescam', 'ablationcam'] as const;
/** Captum-style input attributions (src/explain/attributions.ts), run when named: IG and SmoothGrad take tens of passes per image. */
export const ATTRIBUTION_LOCALIZE_METHODS = ['saliency', 'ig', 'smoothgrad', 'occlusion'] as const;
/** Every method `localize --methods` knows. */
export const KNOWN_LOCALIZE_METHODS = [...LOCALIZE_METHODS, ...CAM_FAMILY_METHODS, ...ATTRIBUTION_LOCALIZE_METHODS] as const;
export type LocalizeMethod = typeof KNOWN_LOCALIZE_METHODS[number];
/** The methods whose maps are one class map per image [N, H, W] (scored by the set-level and faithfulness metrics). */
export const CLASS_MAP_METHODS: readonly LocalizeMethod[] = ['cam', 'gradcam', 'gradcampp', 'csgcam', ...CAM_FAMILY_METHODS, ...ATTRIBUTION_LOCALIZE_METHODS];

/** Which images were scored, as localization.json records it. */
export interface LocalizedDatasetInfo {
  name: string;
  root: string | null;
  /** True when it is the run's own dataset (its config's name, folder and settings). */
  own: boolean;
  canvas: number | null;
  distractors: number | null;
}

/** What localization.json and faithfulness.json say of the run and checkpoint they were computed from. */
export interface ModelResultHeader {
  run: string;
  checkpoint: string;
  /** The checkpoint's key: compare and report show only a localization of the run's own checkpoint. */
  checkpointKey: CheckpointKey;
  epoch: number;
  strategy: string;
}

/** localization.json. */
export interface LocalizationReport extends ModelResultHeader {
  settings: {
    dataset: LocalizedDatasetInfo; split: string; images: number; target: Target; methods: LocalizeMethod[];
    height: number; width: number; gradmapFilters: number;
    /** The input attributions' settings, per method used (saliency, ig, smoothgrad, occlusion). */
    attribution?: Record<string, Record<string, number | string>>;
    /** --layer, when given (the gradient- and score-weighted methods' target layer). */
    layer?: string;
    /** With `localize --metrics`: the faithfulness metrics and their settings (absent otherwise). */
    faithfulness?: FaithfulnessSettings;
  };
  classes: string[];
  /** Per method: every metric overall and per class (class-map methods; on VOC Part also partPointing,
   *  the pointing game per part; with --metrics also `faithfulness`, a ByClass<FaithfulnessSummary>), or its
   *  own protocol (ActivMap, GradMap). */
  methods: Partial<Record<LocalizeMethod, unknown>>;
}

/** How the faithfulness figures were computed (faithfulness.json, and localization.json with --metrics). */
export interface FaithfulnessSettings {
  metrics: FaithfulnessMetric[];
  deletion: { baseline: string; steps: number } | null;
  insertion: { baseline: string; steps: number } | null;
  road: { percentiles: number[]; noise: number } | null;
  /** torch.manualSeed before the first batch (ROAD's noise). */
  seed: number;
}

/** faithfulness.json (`csgnet explain`): per class-map method, every figure's mean overall and per class. */
export interface FaithfulnessReport extends ModelResultHeader {
  settings: {
    split: string; images: number; target: Target; methods: string[]; layer: string | null;
    height: number; width: number; faithfulness: FaithfulnessSettings;
  };
  classes: string[];
  methods: Record<string, ByClass<FaithfulnessSummary>>;
}

/** What compare shows of the faithfulness figures: from faithfulness.json, else localization.json's. */
export interface FaithfulnessCompared {
  file: string;
  split: string;
  images: number;
  methods: Partial<Record<ComparedMethod, FaithfulnessSummary>>;
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
  checkpointKey: CheckpointKey;
  protocol: string;
  settings: {
    split: string; images: number; attacks: AttackName[]; eps: number[]; l2_eps: number[]; detectors: DetectorName[]; fit_fraction: number; seed: number;
    adaptive_weights: number[]; transfer: boolean; fit_train_images: number; batch: number; noise: string; cw: string;
    /** kdbu's and lid's settings, when they ran (absent in older files). */
    detector_options?: { kdbu?: { bandwidth: number; uncertainty: boolean }; lid?: { k: number; minibatch: number; layers: string[] } };
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
  /** Faithfulness figures (RUN/faithfulness/faithfulness.json, else RUN/localization/localization.json with them)
   *  when current (this split, the last checkpoint), else null; absent in comparison.json of older csgnets. */
  faithfulness?: FaithfulnessCompared | null;
}

/**
 * Keys older csgnets wrote, by the names they have now. Readers of result files get them renamed
 * (normalizeResultKeys), so a file from before the rename reads as a new one. A renamed key is one line here.
 */
const RENAMED_KEYS: Readonly<Record<string, string>> = {
  checkpoint_key: 'checkpointKey',
  // localization.json
  gradmap_filters: 'gradmapFilters', top30_iou: 'top30Iou', max_box_acc_v2: 'maxBoxAccV2', pointing_game: 'pointingGame',
  energy_pointing_game: 'energyPointingGame', part_pointing: 'partPointing',
};

/** `json` with every key of RENAMED_KEYS renamed, at any depth (a new key present wins over its old name). */
export function normalizeResultKeys(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(normalizeResultKeys);
  if (json === null || typeof json !== 'object') return json;
  const out: Record<string, unknown> = {};
  const entries = Object.entries(json as Record<string, unknown>);
  for (const [k, v] of entries) if (!(k in RENAMED_KEYS)) out[k] = normalizeResultKeys(v);
  for (const [k, v] of entries) { const to = RENAMED_KEYS[k]; if (to && !(to in out)) out[to] = normalizeResultKeys(v); }
  return out;
}
