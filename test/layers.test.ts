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

/** src/ files (relative to src/) and the src/ files each imports (static, dynamic, `import type` and `export from`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files(src)) {
    const targets = imports(readFileSync(f, 'utf8')).map((spec) => resolve(dirname(f), spec).replace(/\.js$/, '.ts'));
    graph.set(relative(src, f), targets.filter((t) => t.startsWith(src + sep)).map((t) => relative(src, t)));
  }
  return graph;
}

/** The import cycles of a graph: its strongly connected components of more than one file (or a file importing itself), each sorted. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, iterative (no recursion limit on deep import chains).
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const cycles: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: [string, number][] = [[root, 0]];
    while (work.length) {
      const top = work[work.length - 1]!;
      const [v, i] = top;
      if (i === 0) { index.set(v, index.size); low.set(v, index.get(v)!); stack.push(v); onStack.add(v); }
      const next = (graph.get(v) ?? []).filter((w) => graph.has(w));
      if (i < next.length) {
        top[1]++;
        const w = next[i]!;
        if (!index.has(w)) work.push([w, 0]);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) { const u = work[work.length - 1]![0]; low.set(u, Math.min(low.get(u)!, low.get(v)!)); }
      if (low.get(v) === index.get(v)) {
        const scc: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
        if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
      }
    }
  }
  return cycles;
}

// `import type` edges count: a type-only cycle still means neither file can be read, moved or tested without the
// other (the two app cycles issue 23 removed were type-only). Dynamic import() edges count too: a lazy import
// only delays loading, the two files still depend on each other.
test('no import cycles among src/ files', () => {
  assert.deepEqual(importCycles(importGraph()), []);
});

test('the cycle check sees a cycle', () => {
  const g = new Map([
    ['app/a.ts', ['app/b.ts', 'util/x.ts']], ['app/b.ts', ['app/c.ts']], ['app/c.ts', ['app/a.ts']],
    ['util/x.ts', []], ['csg/self.ts', ['csg/self.ts']], ['cli/main.ts', ['app/a.ts', 'util/x.ts']],
  ]);
  assert.deepEqual(importCycles(g).sort(), [['app/a.ts', 'app/b.ts', 'app/c.ts'], ['csg/self.ts']]);
  assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
  // The graph is built from the same import parsing as the layer check: `import type` lines are edges.
  assert.deepEqual(imports("import type { R } from './results.js';"), ['./results.js']);
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
