// The browser builds of vega, vega-lite and vega-embed that the report inlines, read from node_modules
// (searched upwards from the package root, so a hoisted install is found too).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import type { ReportAssets } from './types.js';

/** Load order: vega-lite needs vega, vega-embed needs both. */
export const VEGA_BUILDS = [
  { name: 'vega', file: 'vega/build/vega.min.js' },
  { name: 'vega-lite', file: 'vega-lite/build/vega-lite.min.js' },
  { name: 'vega-embed', file: 'vega-embed/build/vega-embed.min.js' },
] as const;

function findModuleFile(rel: string): string {
  for (let dir = packageRoot(); ; dir = dirname(dir)) {
    const f = join(dir, 'node_modules', rel);
    if (existsSync(f)) return f;
    if (dirname(dir) === dir) throw new Error(`report: cannot find node_modules/${rel} above ${packageRoot()} (is the dependency installed?)`);
  }
}

let cached: ReportAssets | undefined;

export function vegaAssets(): ReportAssets {
  cached ??= { scripts: VEGA_BUILDS.map((b) => ({ name: b.name, source: readFileSync(findModuleFile(b.file), 'utf8') })) };
  return cached;
}
