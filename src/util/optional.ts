// Optional npm packages: the ONNX Runtime builds are needed only by a few commands (`explore`,
// `export --html`, `npm run bench export`), so csgnet does not install them for every user. A
// command that needs one that is missing says which package and how to add it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from './paths.js';

/** The version csgnet is tested with (its peer or dev dependency), for the install hint. */
function testedVersion(pkg: string): string {
  const meta = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
  const v = meta.peerDependencies?.[pkg] ?? meta.devDependencies?.[pkg];
  return v ? `${pkg}@${v}` : pkg;
}

export function missingPackage(pkg: string, neededBy: string): Error {
  return new Error(`${neededBy} needs the npm package '${pkg}', which is not installed; add it with: npm install ${testedVersion(pkg)}`);
}

/** import(pkg), or an error naming the package and the command that needs it. */
export async function importOptional<T>(pkg: string, neededBy: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw missingPackage(pkg, neededBy);
    throw e;
  }
}

/** node_modules/<pkg>/<rel> in the nearest node_modules at or above csgnet's own folder. */
export function packageFile(pkg: string, rel: string, neededBy: string): string {
  for (let dir = packageRoot(); ; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', pkg, rel);
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw missingPackage(pkg, neededBy);
  }
}
