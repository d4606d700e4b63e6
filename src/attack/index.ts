// Adversarial attacks in pixel space (torchattacks semantics): FGSM, BIM, PGD (Linf), PGD-L2, Carlini-Wagner L2,
// DeepFool, APGD (CE, DLR, targeted), Square (Linf) and AutoAttack (standard, without FAB-T).
export { PixelModel } from './pixel_model.js';
export { ATTACK_NAMES, DEFAULT_ATTACKS, UNBOUNDED_ATTACKS, isAttackName, type AttackName } from './names.js';
export { Attack, IterativeAttack, perImageNorms, type AttackOptions, type IterativeDefaults } from './base.js';
export { FGSM } from './fgsm.js';
export { BIM } from './bim.js';
export { PGD } from './pgd.js';
export { PGDL2 } from './pgd_l2.js';
export { CW } from './cw.js';
export { DeepFool } from './deepfool.js';
export { APGD, APGDDLR, APGDT, dlrLoss, dlrLossTargeted } from './apgd.js';
export { Square } from './square.js';
export { AutoAttack } from './autoattack.js';
export { createAttack, defaultAttackOptions } from './registry.js';
export { runAttack, correctlyClassified, summarizeAttack, type AttackResult, type AttackSummary } from './run.js';
