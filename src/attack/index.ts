// Adversarial attacks in pixel space (torchattacks semantics): FGSM, BIM, PGD (Linf), PGD-L2, Carlini-Wagner L2.
export { PixelModel } from './pixel_model.js';
export { ATTACK_NAMES, isAttackName, type AttackName } from './names.js';
export { Attack, IterativeAttack, perImageNorms, type AttackOptions, type IterativeDefaults } from './base.js';
export { FGSM } from './fgsm.js';
export { BIM } from './bim.js';
export { PGD } from './pgd.js';
export { PGDL2 } from './pgd_l2.js';
export { CW } from './cw.js';
export { createAttack, defaultAttackOptions } from './registry.js';
export { runAttack, correctlyClassified, summarizeAttack, type AttackResult, type AttackSummary } from './run.js';
