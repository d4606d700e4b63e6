// What `csgnet adversarial` writes besides the arrays: adversarial.json, adversarial.md (tables), roc.svg/png
// (one panel per setting, one curve per detector) and examples.png (clean, adversarial, amplified perturbation).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { rocSpec, type RocPanel } from '../report/roc.js';
import { renderPng, writeFigure } from '../report/render.js';
import { ADVERSARIAL_FILE, ADVERSARIAL_MARKDOWN } from '../csg/run_dir.js';
import type { AdversarialReport } from '../csg/results.js';
import { adversarialTables } from '../report/adversarial_tables.js';
import { markdownTable } from '../report/table.js';
import { esc } from '../report/html/escape.js';

export interface AdversarialExample {
  setting: string;
  /** Index in the split. */
  index: number;
  label: number;
  cleanPrediction: number;
  adversarialPrediction: number;
  /** [C, H, W] in [0, 1]. */
  clean: Float32Array;
  adversarial: Float32Array;
}

export { MIN_REPORTED } from '../report/adversarial_tables.js';

export function adversarialMarkdown(r: AdversarialReport): string {
  const t = adversarialTables(r);
  const out: string[] = [`# ${t.title}`, '', t.intro];
  for (const table of t.tables) {
    out.push('', `## ${table.heading}`, '', markdownTable(table.header, table.rows));
    if (table.note) out.push('', `**${table.note.label}** ${table.note.text}`);
  }
  return out.join('\n') + '\n';
}

/**
 * Pretty-printed JSON with every array of numbers or strings (ROC points, index lists, names) on one line: readable and
 * small. Non-finite numbers become null.
 */
export function adversarialJson(value: unknown): string {
  const arrays: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    if (Array.isArray(v) && v.length > 0 && v.every((x) => x === null || typeof x === 'number' || typeof x === 'string')) {
      arrays.push(JSON.stringify(v.map((x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x))));
      return `\u0000${arrays.length - 1}`;
    }
    return v;
  }, 2);
  return text.replace(/"\\u0000(\d+)"/g, (_m, i) => arrays[Number(i)]!);
}

/** Writes the JSON, the Markdown tables and both figures; returns their paths. */
export async function writeAdversarialReport(r: AdversarialReport, examples: AdversarialExample[], shape: number[], out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const json = join(out, ADVERSARIAL_FILE), md = join(out, ADVERSARIAL_MARKDOWN);
  writeFileAtomic(json, adversarialJson(r) + '\n');
  writeFileAtomic(md, adversarialMarkdown(r));
  const files = [json, md];
  const panels: RocPanel[] = [];
  for (const a of r.attacks) {
    const curves = r.settings.detectors.flatMap((d) => { const m = a.detectors[d]; return m && 'roc' in m ? [{ name: d, ...m.roc }] : []; });
    if (curves.length) panels.push({ title: a.key, curves });
  }
  if (panels.length) {
    const fig = await writeFigure(out, 'roc', rocSpec(panels));
    files.push(fig.svg, fig.png);
  }
  if (examples.length) files.push(await writeExamples(examples, shape, r.classes, join(out, 'examples.png')));
  return files;
}

const TILE = 96, GAP = 6, CAPTION = 30, ROW_TITLE = 150;

/** RGB bytes of a [C, H, W] image in [0, 1] (grey repeated). */
function rgbOf(x: Float32Array, shape: number[]): Uint8Array {
  const [c, h, w] = shape as [number, number, number], hw = h * w;
  const out = new Uint8Array(hw * 3);
  for (let p = 0; p < hw; p++) for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round(255 * Math.min(1, Math.max(0, x[(c >= 3 ? k : 0) * hw + p]!)));
  return out;
}

/**
 * One row per setting: for each example image, clean | adversarial | perturbation (0 = grey, scaled so
 * that its largest entry reaches black or white; the factor is printed), with the true class and both
 * predictions. Drawn as SVG (embedded PNG tiles, nearest-neighbour upscaled) and rasterized by resvg.
 */
async function writeExamples(examples: AdversarialExample[], shape: number[], classes: string[], file: string): Promise<string> {
  const { default: sharp } = await import('sharp');
  const [, h, w] = shape as [number, number, number];
  const tile = async (x: Float32Array) => {
    const png = await sharp(Buffer.from(rgbOf(x, shape)), { raw: { width: w, height: h, channels: 3 } })
      .resize(TILE, TILE, { kernel: 'nearest', fit: 'fill' }).png().toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  };
  const rows = [...new Set(examples.map((e) => e.setting))];
  const perRow = Math.max(...rows.map((s) => examples.filter((e) => e.setting === s).length));
  const groupW = 3 * TILE + 2 * GAP + 3 * GAP;
  const width = ROW_TITLE + perRow * groupW, rowH = TILE + CAPTION + GAP, height = 24 + rows.length * rowH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="4" y="15" font-size="12">clean | adversarial | perturbation (scaled), per setting; captions: true class, predictions</text>`];
  for (const [ri, setting] of rows.entries()) {
    const y0 = 24 + ri * rowH;
    parts.push(`<text x="4" y="${y0 + TILE / 2}" font-size="12">${esc(setting)}</text>`);
    for (const [ci, e] of examples.filter((x) => x.setting === setting).entries()) {
      const x0 = ROW_TITLE + ci * groupW;
      const delta = new Float32Array(e.clean.length);
      let maxAbs = 0;
      for (let i = 0; i < delta.length; i++) { delta[i] = e.adversarial[i]! - e.clean[i]!; maxAbs = Math.max(maxAbs, Math.abs(delta[i]!)); }
      const amp = maxAbs > 0 ? 0.5 / maxAbs : 1;
      const shown = delta.map((d) => 0.5 + amp * d);
      const tiles = [await tile(e.clean), await tile(e.adversarial), await tile(shown)];
      tiles.forEach((href, k) => parts.push(`<image x="${x0 + k * (TILE + GAP)}" y="${y0}" width="${TILE}" height="${TILE}" href="${href}"/>`));
      const name = (c: number) => esc(classes[c] ?? String(c));
      parts.push(`<text x="${x0}" y="${y0 + TILE + 12}">#${e.index} ${name(e.label)}: ${name(e.cleanPrediction)} -&gt; ${name(e.adversarialPrediction)}</text>`);
      parts.push(`<text x="${x0 + 2 * (TILE + GAP)}" y="${y0 + TILE + 24}">x${amp.toFixed(1)}</text>`);
    }
  }
  parts.push('</svg>');
  writeFileAtomic(file, renderPng(parts.join('\n'), 1));
  return file;
}
