// Per-epoch alternation of STD and CSG paths (method.md section 3).
export type Strategy = 'std' | 'csg';
export type Path = 'std' | 'csg';

export interface ScheduleConfig { strategy: Strategy; warmup: number; period: number; phaseMin: number }

/** Epoch e (0-based) is a CSG epoch iff strategy is csg, e >= warmup and e % period >= phaseMin. */
export function epochPath(epoch: number, s: ScheduleConfig): Path {
  if (s.period < 1) throw new Error(`schedule: period must be >= 1, got ${s.period}`);
  return s.strategy === 'csg' && epoch >= s.warmup && epoch % s.period >= s.phaseMin ? 'csg' : 'std';
}

/** The whole plan, e.g. for config.json and the progress display. */
export function schedulePlan(epochs: number, s: ScheduleConfig): Path[] {
  return Array.from({ length: epochs }, (_, e) => epochPath(e, s));
}

/** Why a CSG run would end with its gate untrained (no CSG epoch in its plan), or null when it has one. */
export function noCsgEpochReason(epochs: number, s: ScheduleConfig): string | null {
  if (s.strategy !== 'csg' || schedulePlan(epochs, s).includes('csg')) return null;
  const plan = `--warmup ${s.warmup} --period ${s.period} --phase-min ${s.phaseMin}`;
  let first = -1;
  for (let e = s.warmup; e < s.warmup + s.period; e++) if (epochPath(e, s) === 'csg') { first = e; break; }
  const when = first < 0 ? `${plan} has no CSG epoch at all` : `with ${plan} the first CSG epoch is epoch ${first + 1} (--epochs ${first + 1} or more)`;
  return `--strategy csg with --epochs ${epochs} reaches no CSG epoch (${when}): the gate would keep its initial value (--gate-init) ` +
    'and CSG-CAM would use it';
}
