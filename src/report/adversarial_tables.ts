// The tables of an adversarial.json, as text cells: adversarial.md (app/adversarial_report.ts) and the HTML
// report (report/html/page.ts) both render these, so the report reads the JSON and never parses the Markdown.
import type { AdversarialReport, DetectorOutcome, SettingResult } from '../csg/results.js';
import type { RocSeries } from './roc.js';

/** Reported images (samples per class) below which a setting's detector metrics are flagged as unreliable. */
export const MIN_REPORTED = 30;

export interface AdversarialTable {
  heading: string;
  header: string[];
  rows: string[][];
  /** A warning printed after the table ('Few samples:' and its text). */
  note?: { label: string; text: string };
}

export interface AdversarialTables { title: string; intro: string; tables: AdversarialTable[] }

const f3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3));
const cell = (d: DetectorOutcome | undefined) => (!d ? '' : 'skipped' in d ? 'n/a' : `${f3(d.auroc)} / ${f3(d.tnr_at_95_tpr)} / ${f3(d.detection_accuracy)}`);
const epsText = (r: SettingResult) => (r.eps === null ? '-' : String(r.eps));

export function adversarialTables(r: AdversarialReport): AdversarialTables {
  const dets = r.settings.detectors;
  const intro = `${r.clean.images} images of the ${r.settings.split} split, ${r.clean.correct} classified correctly (accuracy ${f3(r.clean.accuracy)}); ` +
    `detectors fitted on ${(100 * r.settings.fit_fraction).toFixed(0)} % of the images (seed ${r.settings.seed}), reported on the rest. ${r.protocol}`;
  const tables: AdversarialTable[] = [{
    heading: 'Attacks',
    header: ['attack', 'eps', 'adaptive w', 'attacked', 'success rate', 'mean Linf', 'mean L2', 'selected (fit / report)'],
    rows: r.attacks.map((a) => [a.attack, epsText(a), String(a.adaptive_weight ?? '-'), String(a.attacked), f3(a.success_rate), f3(a.mean_linf), f3(a.mean_l2),
      `${a.selected} (${a.fit.images} / ${a.eval.images})`]),
  }];
  const few = r.attacks.filter((a) => a.eval.images < MIN_REPORTED);
  tables.push({
    heading: 'Detection (AUROC / TNR at 95 % TPR / detection accuracy)',
    header: ['attack', 'eps', 'adaptive w', ...dets],
    rows: r.attacks.map((a) => [a.attack, epsText(a), String(a.adaptive_weight ?? '-'), ...dets.map((d) => cell(a.detectors[d]))]),
    ...(few.length ? {
      note: {
        label: 'Few samples:', text: `${few.map((a) => `${a.key} (${a.eval.images})`).join(', ')} report fewer than ${MIN_REPORTED} images per ` +
          'class of sample (clean, noisy, adversarial): their metrics are unreliable; a larger --limit gives more.',
      },
    } : {}),
  });
  if (r.transfer.length) {
    tables.push({
      heading: 'Transfer (fitted on one attack, reported on another)',
      header: ['fitted on', 'tested on', ...dets],
      rows: r.transfer.map((t) => [t.fit, t.test, ...dets.map((d) => cell(t.detectors[d]))]),
    });
  }
  return { title: `Adversarial detection: ${r.run} (${r.model}, ${r.strategy}, epoch ${r.epoch})`, intro, tables };
}

/** Every ROC curve of an adversarial.json: per setting (then per transfer pair), per detector that was scored. */
export function adversarialRocCurves(r: AdversarialReport): RocSeries[] {
  const rows = [...r.attacks.map((a) => ({ name: a.key, detectors: a.detectors })), ...r.transfer.map((t) => ({ name: `${t.fit} -> ${t.test}`, detectors: t.detectors }))];
  return rows.flatMap((row) => r.settings.detectors.flatMap((d) => {
    const m = row.detectors[d];
    return m && 'roc' in m ? [{ name: `${row.name} / ${d}`, fpr: m.roc.fpr, tpr: m.roc.tpr, auc: Number.isFinite(m.auroc) ? m.auroc : null }] : [];
  }));
}

/** Whether parsed JSON has the parts the tables read (an adversarial.json of this csgnet, not some other file). */
export function isAdversarialReport(json: unknown): json is AdversarialReport {
  const r = json as Partial<AdversarialReport> | null;
  return !!r && typeof r === 'object' && Array.isArray(r.attacks) && Array.isArray(r.transfer) && Array.isArray(r.settings?.detectors) &&
    typeof r.clean === 'object' && r.clean !== null && r.attacks.every((a) => a && typeof a === 'object' && a.fit && a.eval && a.detectors);
}
