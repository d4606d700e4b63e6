// The faithfulness metrics' names, torch-free (the CLI's option parsers and the result types read them).
/** The metrics `--metrics` names. */
export const FAITHFULNESS_METRICS = ['deletion', 'insertion', 'road', 'confidence'] as const;
export type FaithfulnessMetric = typeof FAITHFULNESS_METRICS[number];

/** The per-image figures, in report order, with the metric that makes each. */
export const FAITHFULNESS_FIGURES = {
  deletionAuc: 'deletion', insertionAuc: 'insertion', roadMorf: 'road', roadLerf: 'road', roadCombined: 'road',
  averageDrop: 'confidence', increaseInConfidence: 'confidence', dropInConfidence: 'confidence',
} as const satisfies Record<string, FaithfulnessMetric>;
export type FaithfulnessFigure = keyof typeof FAITHFULNESS_FIGURES;

/** Means over a set of images of each figure computed (a figure is absent when its metric was not asked for). */
export type FaithfulnessSummary = Partial<Record<FaithfulnessFigure, number>>;
