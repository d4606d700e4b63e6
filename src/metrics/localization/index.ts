// Localization metrics over maps [N, H, W] (Float32Array), masks [N, H, W] (Uint8Array 0/1) and boxes
// [N, 4] (inclusive x0, y0, x1, y1): the released code's conventions (method.md section 5), wsolevaluation's
// MaxBoxAccV2 and PxAP, and the pointing games, per class and overall. Torch-free.
export * from './check.js';
export * from './per_class.js';
export * from './iou.js';
export * from './activmap.js';
export * from './components.js';
export * from './sweep.js';
export * from './normalize.js';
export * from './max_box_acc.js';
export * from './pxap.js';
export * from './pointing.js';
