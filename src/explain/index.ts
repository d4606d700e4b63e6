// Localization maps from a trained model: CAM, Grad-CAM, Grad-CAM++, CSG-CAM, ActivMap and GradMap
// (method.md section 5), one small class per method over a shared base.
export { Explainer, TARGETS, targetGradients, type Target, type ExplainerOptions, type Explanation } from './base.js';
export { Cam } from './cam.js';
export { GradCam, GradientWeightedCam } from './gradcam.js';
export { GradCamPlusPlus } from './gradcampp.js';
export { CsgCam } from './csgcam.js';
export { ActivMap } from './activmap.js';
export { GradMap, gradMapBlur } from './gradmap.js';
export { FilterClassStats, activationThresholds, type LabelledBatch } from './filter_stats.js';
