// Locates the package root (the folder holding csgnet's package.json) from compiled or source files.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'csgnet') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('csgnet: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
