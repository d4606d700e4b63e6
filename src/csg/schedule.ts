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

