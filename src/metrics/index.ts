// Interpretability metrics: mutual information (scikit-learn's estimator), MIS, filter-class
// assignment, specificity, correlation and the helpers the figures use.
export * from './mutual_info.js';
export * from './analysis.js';
export * from './localization/index.js';
export * from './detection.js';
