// The attack names without the attacks (importing this loads no libtorch): the CLI's choices.
export const ATTACK_NAMES = ['fgsm', 'bim', 'pgd', 'pgd-l2', 'cw'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

export function isAttackName(s: string): s is AttackName { return (ATTACK_NAMES as readonly string[]).includes(s); }
