// Text and data safe to put into the HTML page: every string from a run (class names, paths, config
// values, Markdown) goes through esc; JSON inside <script> through jsonForScript.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that can sit inside a <script> element: '<', '>' and '&' as \u escapes (no '</script>' or
 * '<!--' can end the element), and U+2028/2029, which older JavaScript parsers take for line breaks.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A data: URI of bytes (PNG, SVG, ...). */
export function dataUri(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** A number for a table cell: '-' when missing or not finite. */
export function num(v: unknown, digits = 4): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}
