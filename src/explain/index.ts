// Localization maps from a trained model: CAM, Grad-CAM, Grad-CAM++, CSG-CAM, ActivMap and GradMap
// (method.md section 5), the rest of pytorch-grad-cam's CAM family (Score-CAM, XGrad-CAM, LayerCAM,
// EigenCAM, HiResCAM, Ablation-CAM) at any target layer, and the Captum-style input attributions
// (saliency, ig, smoothgrad, occlusion), one small class per method over a shared base.
export { Explainer, TARGETS, targetGradients, type Target, type ExplainerOptions, type Explanation } from './base.js';
export { Cam } from './cam.js';
export { GradCam, GradientCam, GradientWeightedCam } from './gradcam.js';
export { GradCamPlusPlus } from './gradcampp.js';
export { CsgCam } from './csgcam.js';
export { ActivMap } from './activmap.js';
export { GradMap, gradMapBlur } from './gradmap.js';
export { FilterClassStats, activationThresholds, type LabelledBatch } from './filter_stats.js';
export { InputAttribution, type AttributionOptions } from './attribution.js';
export { ATTRIBUTION_DEFAULTS } from './attribution_defaults.js';
export { Saliency } from './saliency.js';
export { IntegratedGradients, IG_BASELINES, trapezoidRule, blurredBaseline, type IgBaseline, type IntegratedGradientsOptions } from './ig.js';
export { SmoothGrad, type SmoothGradOptions } from './smoothgrad.js';
export { Occlusion, windowOffsets, type OcclusionOptions } from './occlusion.js';
export { ATTRIBUTION_METHODS, createAttribution, isAttributionMethod, type AttributionMethod, type AttributionSettings } from './attributions.js';
export { PerturbationCam, type PerturbationOptions } from './perturbation.js';
export { ScoreCam } from './scorecam.js';
export { AblationCam, ABLATION_VALUE } from './ablationcam.js';
export { XGradCam } from './xgradcam.js';
export { LayerCam } from './layercam.js';
export { HiResCam } from './hirescam.js';
export { EigenCam } from './eigencam.js';
