// The attack names without the attacks (importing this loads no libtorch): the CLI's choices.
export const ATTACK_NAMES = ['fgsm', 'bim', 'pgd', 'pgd-l2', 'cw', 'deepfool', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'square', 'autoattack'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

/** What `csgnet adversarial` runs unless --attacks says otherwise: the five classic attacks (the others are slower). */
export const DEFAULT_ATTACKS = ['fgsm', 'bim', 'pgd', 'pgd-l2', 'cw'] as const satisfies readonly AttackName[];

/** Attacks without a radius (minimum-distance attacks): run once, with their own options. */
export const UNBOUNDED_ATTACKS: readonly AttackName[] = ['cw', 'deepfool'];

export function isAttackName(s: string): s is AttackName { return (ATTACK_NAMES as readonly string[]).includes(s); }
