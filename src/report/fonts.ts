// Font probing for the PNG renderer (render.ts).
//
// Fonts: the SVG names the generic family `sans-serif`. resvg draws no text at all when it finds no
// font (silently), so the PNG path loads the system fonts and, when one of the common sans fonts
// listed in FONT_CANDIDATES is installed (Debian: fonts-dejavu-core), also loads that file and maps
// `sans-serif` to it, so that output does not depend on fontconfig's choice. If no font file can be
// found anywhere, a warning is emitted once and PNGs come out without text (SVGs are unaffected;
// browsers use their own fonts). Pass `fontFiles` to `renderPng` to supply fonts explicitly.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const FONT_CANDIDATES: { family: string; files: string[] }[] = [
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/TTF/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'] },
  { family: 'Liberation Sans', files: ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf', '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf'] },
  { family: 'Arial', files: ['/System/Library/Fonts/Supplemental/Arial.ttf', 'C:\\Windows\\Fonts\\arial.ttf', 'C:\\Windows\\Fonts\\arialbd.ttf'] },
  { family: 'Helvetica', files: ['/System/Library/Fonts/Helvetica.ttc'] },
];

function hasAnyFontFile(dir: string, depth = 0): boolean {
  if (depth > 4 || !existsSync(dir)) return false;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile() && /\.(ttf|otf|ttc|otc)$/i.test(e.name)) return true;
      if (e.isDirectory() && hasAnyFontFile(join(dir, e.name), depth + 1)) return true;
    }
  } catch { /* unreadable: treat as empty */ }
  return false;
}

export interface FontInfo {
  /** Family mapped to `sans-serif`, when a known font file was found. */
  family?: string;
  /** Font files loaded explicitly (besides the system fonts). */
  files: string[];
  /** false when no font file was found at all: PNGs will have no text. */
  anyFont: boolean;
}

let fontCache: FontInfo | undefined;

/** Which fonts the PNG renderer will use (probed once). */
export function fontInfo(): FontInfo {
  if (fontCache) return fontCache;
  for (const cand of FONT_CANDIDATES) {
    const files = cand.files.filter((f) => existsSync(f));
    if (files.length) return (fontCache = { family: cand.family, files, anyFont: true });
  }
  const dirs = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts'), '/System/Library/Fonts', '/Library/Fonts', 'C:\\Windows\\Fonts'];
  return (fontCache = { files: [], anyFont: dirs.some((d) => hasAnyFontFile(d)) });
}
