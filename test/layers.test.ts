// The direction of imports, in one place: a file may import from its own layer and the layers below,
// never from above (peers on one level may use each other). Library code (everything below the CLI)
// also never owns the process: no process.exit, no signal handlers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

/** src/<folder> -> level. index.ts at src/ is the public surface over the library. */
export const LAYERS: Record<string, number> = {
  util: 0,
  torch: 1, io: 1,
  models: 2, data: 2,
  csg: 3, metrics: 3, report: 3, explain: 3, attack: 3, detect: 3, export: 3,
  'index.ts': 4, app: 4, bench: 4,
  cli: 5,
};

const src = join(packageRoot(), 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

const layerOf = (file: string): string => relative(src, file).split(sep)[0];

function imports(text: string): string[] {
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...text.matchAll(re)].map((m) => m[1]);
}

test('every src/ folder has a layer', () => {
  for (const f of files(src)) assert.ok(layerOf(f) in LAYERS, `${relative(src, f)}: folder ${layerOf(f)} is not in LAYERS`);
});

test('imports point down (or sideways), never up', () => {
  const bad: string[] = [];
  for (const f of files(src)) {
    const from = layerOf(f);
    for (const spec of imports(readFileSync(f, 'utf8'))) {
      const target = resolve(dirname(f), spec);
      if (!target.startsWith(src + sep)) { bad.push(`${relative(src, f)} imports ${spec}, outside src/`); continue; }
      const to = layerOf(target.replace(/\.js$/, '.ts'));
      if (LAYERS[to] > LAYERS[from]) bad.push(`${relative(src, f)} (${from}, level ${LAYERS[from]}) imports ${spec} (${to}, level ${LAYERS[to]})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the layer check sees a violation', () => {
  // The same parsing on a made-up file: a data module importing the CLI must be caught.
  assert.deepEqual(imports("import { x } from '../cli/main.js';\nconst y = await import('./z.js');\nexport * from '../csg/run.js';"),
    ['../cli/main.js', './z.js', '../csg/run.js']);
});

test('library code never exits the process or installs signal handlers', () => {
  const bad: string[] = [];
  for (const f of files(src)) {
    if (layerOf(f) === 'cli') continue;
    const text = readFileSync(f, 'utf8');
    if (/process\.exit\s*\(/.test(text)) bad.push(`${relative(src, f)}: process.exit`);
    if (/process\.(on|once|addListener)\s*\(\s*['"]SIG/.test(text)) bad.push(`${relative(src, f)}: signal handler`);
  }
  assert.deepEqual(bad, []);
});
