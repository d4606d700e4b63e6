// What the terminal shows for eval, gate and info.
import { table, fmt } from '../report/table.js';
import type { FaithfulnessReport, LocalizationReport } from '../csg/results.js';
import { FAITHFULNESS_FIGURES, type FaithfulnessFigure, type FaithfulnessSummary } from '../metrics/faithfulness/names.js';

export { table, fmt } from '../report/table.js';

/** The CLI's one logger: a line on stderr, so that stdout (--json, tables) stays clean. */
export const stderrLine = (line: string): void => { process.stderr.write(`${line}\n`); };

/** A note the library passes up (its `log` option), marked as such. */
export const stderrNote = (line: string): void => stderrLine(`note: ${line}`);

export function formatEvaluation(e: { run: string; epoch: number; split: string; accuracy: number; density: number | null; n: number;
  classes: string[]; per_class_accuracy: number[]; confusion: number[][] }): string {
  const out = [`${e.run} (epoch ${e.epoch}, ${e.split} split, ${e.n} images): accuracy ${fmt(e.accuracy)}` +
    (e.density !== null ? `, gate density ${fmt(e.density)}` : '')];
  out.push('', table(['class', 'accuracy', ...e.classes.map((_, i) => `p${i}`)],
    e.classes.map((name, c) => [`${c} ${name}`, e.per_class_accuracy[c], ...e.confusion[c]])));
  return out.join('\n');
}

export function formatGate(g: { run: string; density: number; classes: string[]; gate: number[][]; assignment: number[] }): string {
  const rows = g.gate.map((row, k) => [String(k), ...row.map((v) => v.toFixed(2)), `${g.assignment[k]} ${g.classes[g.assignment[k]]}`]);
  const counts = g.classes.map((name, c) => `${c} ${name}: ${g.assignment.filter((a) => a === c).length}`);
  return [`${g.run}: gate ${g.gate.length} filters x ${g.classes.length} classes, density ${fmt(g.density)}`, '',
    table(['filter', ...g.classes.map((_, c) => `c${c}`), 'assigned'], rows), '', 'filters per class: ' + counts.join(', ')].join('\n');
}

export function formatInfo(i: import('../torch/info.js').TorchInfo): string {
  const or = (v: string | null, none = 'not found') => v ?? none;
  const rows: [string, string][] = [
    ['libtorch', `${i.libtorch_version}${i.libtorch_library ? ` (${i.libtorch_library})` : ''}`],
    ['built against', i.libtorch_build ? `${i.libtorch_build.kind} libtorch ${i.libtorch_build.version} in ${i.libtorch_build.root}${i.libtorch_build.cuda ? ' (CUDA)' : ''}` : 'unknown (built without native/build.cjs)'],
    ['BLAS', `${i.blas}${i.blas_library ? ` (${i.blas_library})` : ''}; build: BLAS_INFO=${or(i.blas_build, '?')}`],
    ['oneDNN', `${or(i.onednn_version, 'not built in')}${i.onednn_library ? ` (${i.onednn_library})` : ''}`],
    ['OpenMP', or(i.openmp, 'no')],
    ['CPU capability', or(i.cpu_capability, '?')],
    ['threads', `intra-op ${i.intra_op_threads}, inter-op ${i.inter_op_threads} (${or(i.parallel_backend, '?')}; OMP_NUM_THREADS ${i.omp_num_threads ?? 'not set'})`],
    ['CUDA', i.cuda_available ? 'available' : 'not available'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** The overall figures of `csgnet localize`, one row per method. */
export function formatLocalization(r: LocalizationReport): string {
  const rows: (string | number)[][] = [];
  // The methods' figures are src/metrics' result objects, read by name.
  for (const [m, v] of Object.entries(r.methods) as [string, any][]) {
    if (v?.top30Iou) {
      const o = (k: string) => v[k].overall;
      rows.push([m, o('top30Iou').meanIoU, o('top30Iou').hitRate, o('maxBoxAccV2').maxBoxAccV2, o('pxap').pxap,
        o('pointingGame').hitRate, o('energyPointingGame').energy]);
    } else if (m === 'activmap') rows.push([m, v.overall.meanIoU, v.overall.successRate, '-', '-', '-', '-']);
    else if (m === 'gradmap') rows.push([m, v.overall.meanIoU, v.overall.hitRate, '-', '-', '-', '-']);
  }
  const of = r.settings.dataset && !r.settings.dataset.own ? ` of ${r.settings.dataset.name}` : '';
  const faith = Object.entries(r.methods).flatMap(([m, v]: [string, any]) => (v?.faithfulness ? [[m, v.faithfulness.overall] as const] : []));
  return `${r.run} (${r.settings.images} ${r.settings.split} images${of})\n` +
    table(['method', 'mean IoU', 'hit rate', 'MaxBoxAccV2', 'PxAP', 'pointing', 'energy'], rows) +
    (faith.length ? '\n' + faithfulnessTable(faith) : '');
}

/** Method x faithfulness figure (overall means), the figures some method has. */
function faithfulnessTable(methods: readonly (readonly [string, FaithfulnessSummary])[]): string {
  const figures = (Object.keys(FAITHFULNESS_FIGURES) as FaithfulnessFigure[]).filter((k) => methods.some(([, s]) => s[k] !== undefined));
  return table(['method', ...figures], methods.map(([m, s]) => [m, ...figures.map((k) => s[k] ?? '-')]));
}

export function formatFaithfulness(r: FaithfulnessReport): string {
  return `${r.run} (${r.settings.images} ${r.settings.split} images, maps for the ${r.settings.target} class)\n` +
    faithfulnessTable(Object.entries(r.methods).map(([m, v]) => [m, v.overall] as const));
}
