// The CSG method: configuration and presets, the gate, its penalty, the epoch schedule, the training
// step and trainer, run folders and checkpoints, and opening a run for analysis.
export * from './config.js';
export { RESUMABLE_KEYS, TRAIN_OPTIONS, configFromOptions, type ResumeOverrides, type TrainOption } from './train_options.js';
export * from './gate.js';
export * from './losses.js';
export * from './schedule.js';
export * from './step.js';
export * from './model.js';
export * from './trainer.js';
export * from './run_dir.js';
export * from './run.js';
export { saveSnapshot, loadSnapshot, type Snapshot } from './checkpoint.js';
export * from './events_log.js';
