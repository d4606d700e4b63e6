// Path safety of the dashboard: run names come from URLs and must name a folder inside the runs root,
// never one reached through '..', an encoded slash or backslash, or a symlink that leaves the root.
import { realpathSync } from 'node:fs';
import { join, sep } from 'node:path';

/** A request the dashboard refuses (403) rather than one for something that does not exist (404). */
export class ForbiddenPathError extends Error {}

/**
 * The run name in URL path segments (still percent-encoded, as the client sent them): each segment is
 * decoded on its own, and one that is empty, '.' or '..', or holds a slash, a backslash or a NUL
 * (encoded or not) is refused.
 */
export function runNameFromSegments(rawSegments: string[]): string {
  if (!rawSegments.length) throw new ForbiddenPathError('empty run name');
  const parts = rawSegments.map((raw) => {
    if (/%(2f|5c|00)/i.test(raw)) throw new ForbiddenPathError(`encoded slash, backslash or NUL in '${raw}'`);
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      throw new ForbiddenPathError(`bad percent-encoding in '${raw}'`);
    }
    if (part === '' || part === '.' || part === '..' || /[/\\\0]/.test(part)) throw new ForbiddenPathError(`path segment '${part}' is not allowed`);
    return part;
  });
  return parts.join('/');
}

/** Whether `path` is `root` or lies below it (both already real paths). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of `rel` (slash-separated) under the real runs root `realRoot`; ForbiddenPathError when
 * it resolves outside (a symlink out of the root), null when it does not exist.
 */
export function resolveInside(realRoot: string, rel: string): string | null {
  let real: string;
  try {
    real = realpathSync(join(realRoot, ...rel.split('/')));
  } catch {
    return null;
  }
  if (!isInside(realRoot, real)) throw new ForbiddenPathError(`${rel} leads outside the runs folder`);
  return real;
}
