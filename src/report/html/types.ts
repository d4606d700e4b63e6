// What the HTML report is made from: plain data a caller gathers (src/app/report.ts reads run folders
// and computes what is missing); the page builder only formats it.
import type { EpochMetrics } from '../../csg/run_dir.js';
import type { AdversarialReport, AnalysisResult, FaithfulnessReport, LocalizationReport } from '../../csg/results.js';

/** One image of a filter's gallery. */
export interface GalleryImage {
  /** Index in the split. */
  index: number;
  /** Its class name. */
  label: string;
  /** The filter's GAP activation on it. */
  activation: number;
}

export interface GalleryFilter {
  filter: number;
  /** G[k, c] of the class the filter is shown for (CSG runs). */
  gate: number | null;
  /** Mean GAP activation of the filter over the class's images. */
  classMean: number;
  /** An image data URI (JPEG): the top images side by side, each with the filter's activation map overlaid. */
  strip: string;
  images: GalleryImage[];
}

export interface ReportGallery {
  /** How filters were given to classes: the gate, the MI matrix, or the mean activation per class. */
  assignment: 'gate' | 'mi' | 'activation';
  /** Images searched (the first N of the split). */
  images: number;
  split: string;
  perFilter: number;
  /** Filters of each class, in class order. */
  classes: { name: string; assigned: number; filters: GalleryFilter[] }[];
}

export interface ReportLocalization {
  file: string;
  /** localization.json as written by `csgnet localize` (its methods' figures are read generically). */
  json: LocalizationReport;
  /** overlays.png as a data URI, when present. */
  overlays: string | null;
}

export interface ReportFaithfulness {
  /** The faithfulness.json shown (csgnet explain). */
  file: string;
  json: FaithfulnessReport;
}

export interface ReportAdversarial {
  /** The adversarial.json shown. */
  file: string;
  json: AdversarialReport;
}

/** Everything the page shows of one run; null parts are reported as missing, with `notes` saying why. */
export interface ReportRun {
  /** Display name (the folder as given). */
  name: string;
  /** config.json as written by the trainer. */
  config: Record<string, unknown>;
  model: string;
  strategy: string;
  dataset: string;
  classes: string[];
  /** The checkpoint the model-based parts used, and its epoch. */
  checkpoint: { file: string; epoch: number } | null;
  metrics: EpochMetrics[];
  analysis: AnalysisResult | null;
  /** G as K rows of C (CSG runs). */
  gate: number[][] | null;
  gallery: ReportGallery | null;
  localization: ReportLocalization | null;
  adversarial: ReportAdversarial | null;
  /** RUN/faithfulness/faithfulness.json of this checkpoint (absent in data of older csgnets). */
  faithfulness?: ReportFaithfulness | null;
  /** What is missing or was recomputed, and why. */
  notes: string[];
}

export interface ReportData {
  title: string;
  /** ISO time of making. */
  created: string;
  generator: string;
  runs: ReportRun[];
}

/** The browser builds the page inlines (vega, vega-lite, vega-embed), in load order. */
export interface ReportAssets { scripts: { name: string; source: string }[] }
