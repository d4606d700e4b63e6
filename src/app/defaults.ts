// The defaults of the app's commands, once each: the app functions fall back on them and the CLI shows
// them in --help. Loads no libtorch (the CLI reads it at startup).
import { DEFAULT_ATTACKS } from '../attack/names.js';
import { DETECTOR_NAMES } from '../detect/names.js';
import { CLASS_MAP_METHODS, KNOWN_LOCALIZE_METHODS, LOCALIZE_METHODS, type LocalizeMethod } from '../csg/results.js';
import { FAITHFULNESS_METRICS } from '../metrics/faithfulness/names.js';

/** `csgnet adversarial` (src/app/adversarial.ts). */
export const ADVERSARIAL_DEFAULTS = {
  /** The five classic attacks; deepfool, apgd-*, square and autoattack run when --attacks names them. */
  attacks: DEFAULT_ATTACKS,
  detectors: DETECTOR_NAMES,
  /** Linf radii in pixel units. */
  eps: [0.05, 0.1, 0.2],
  adaptiveWeights: [1, 10],
  /** Images attacked: the whole 10,000-image test split takes hours on a CPU (17 settings each). */
  limit: 1000,
  fitFraction: 0.1,
  seed: 0,
  fitTrainLimit: 10000,
  batchSize: 100,
} as const;

/** `csgnet localize`'s default methods (src/app/localize.ts) and every method it knows. */
export { CLASS_MAP_METHODS, KNOWN_LOCALIZE_METHODS, LOCALIZE_METHODS };

/** `csgnet localize`. */
export const LOCALIZE_DEFAULTS = { methods: LOCALIZE_METHODS, target: 'label', batchSize: 64, gradMapFilters: 30 } as const;

/** `csgnet explain` (src/app/explain.ts): every faithfulness metric; the first 1000 images (ROAD solves 18
 *  imputations per image). `localize --metrics` defaults to none (its output is the overlap metrics alone). */
export const EXPLAIN_DEFAULTS = { methods: ['cam', 'gradcam', 'gradcampp', 'csgcam'] as readonly LocalizeMethod[], metrics: FAITHFULNESS_METRICS, target: 'label', batchSize: 64, limit: 1000 } as const;

/** `csgnet report` (src/app/report.ts). */
export const REPORT_DEFAULTS = { analysisLimit: 0, galleryImages: 2000, filtersPerClass: 8, imagesPerFilter: 8 } as const;

/** The web servers (`csgnet dashboard`, `csgnet explore`): loopback unless --host says otherwise. */
export const SERVER_HOST = '127.0.0.1';

/** `csgnet dashboard` (src/app/dashboard/server.ts). */
export const DASHBOARD_DEFAULTS = { port: 6006 } as const;

/** `csgnet explore` (src/app/explore.ts). */
export const EXPLORE_DEFAULTS = { port: 6007, samples: 20 } as const;
