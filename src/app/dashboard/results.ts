// What the dashboard says of a run's result files (analysis.json, localization.json, faithfulness.json,
// adversarial.json):
// current or stale, and why, decided by the one freshness test (resultStaleness) that compare and
// report use. Read once per opened run: it hashes the last checkpoint.
import { existsSync, lstatSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { RunDir } from '../../csg/run_dir.js';
import type { AnalysisKey, CheckpointKey } from '../../csg/results.js';
import { analysisKey, readResultJson, resultStaleness } from '../analysis_key.js';

export type ResultKind = 'analysis' | 'localization' | 'faithfulness' | 'adversarial';

export interface ResultState {
  kind: ResultKind;
  /** The file, relative to the run folder. */
  file: string;
  current: boolean;
  /** Why it is not current ('' when it is): the command's cached copy would be recomputed for this reason. */
  why: string;
}

/** Each result file present in run folder `dir` (symlinks skipped: the dashboard reads only inside the root). */
export function resultStates(dir: string): ResultState[] {
  const rd = new RunDir(dir, '--runs');
  const files: [ResultKind, string][] = [['analysis', rd.analysisFile], ['localization', rd.localizationFile],
    ['faithfulness', rd.faithfulnessFile], ['adversarial', rd.adversarialFile]];
  const present = files.filter(([, f]) => existsSync(f) && !lstatSync(f).isSymbolicLink());
  if (!present.length) return [];
  let want: CheckpointKey | null = null, noCheckpoint = '';
  try {
    want = analysisKey(dir, { checkpoint: 'last' }).checkpoint;
  } catch (e) {
    noCheckpoint = (e as Error).message;
  }
  // Paths shown relative to the run folder (the page does not show where the runs root is on disk).
  const shown = (s: string) => s.split(dir + sep).join('');
  return present.map(([kind, abs]) => {
    const { json, why: unreadable } = readResultJson(abs);
    let why = unreadable || (want ? '' : `the run's last checkpoint cannot be read (${noCheckpoint})`);
    if (!why && want) {
      const o = (json ?? {}) as { key?: AnalysisKey; checkpointKey?: CheckpointKey };
      // analysis.json's key also holds its split and MI options: only its checkpoint decides here.
      why = resultStaleness(abs, kind === 'analysis' ? o.key?.checkpoint : o.checkpointKey, want);
    }
    return { kind, file: relative(dir, abs), current: !why, why: shown(why) };
  });
}
