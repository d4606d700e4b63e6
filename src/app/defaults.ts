// The defaults of the app's commands, once each: the app functions fall back on them and the CLI shows
// them in --help. Loads no libtorch (the CLI reads it at startup).
import { DEFAULT_ATTACKS } from '../attack/names.js';
import { DETECTOR_NAMES } from '../detect/names.js';
import { LOCALIZE_METHODS } from '../csg/results.js';

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

/** `csgnet localize`'s methods (src/app/localize.ts), all of them by default. */
export { LOCALIZE_METHODS };

/** `csgnet localize`. */
export const LOCALIZE_DEFAULTS = { methods: LOCALIZE_METHODS, target: 'label', batchSize: 64, gradMapFilters: 30 } as const;

/** `csgnet report` (src/app/report.ts). */
export const REPORT_DEFAULTS = { analysisLimit: 0, galleryImages: 2000, filtersPerClass: 8, imagesPerFilter: 8 } as const;

/** The web servers (`csgnet dashboard`, `csgnet explore`): loopback unless --host says otherwise. */
export const SERVER_HOST = '127.0.0.1';

/** `csgnet dashboard` (src/app/dashboard/server.ts). */
export const DASHBOARD_DEFAULTS = { port: 6006 } as const;

/** `csgnet explore` (src/app/explore.ts). */
export const EXPLORE_DEFAULTS = { port: 6007, samples: 20 } as const;
