// Deterministic lifetime for native tensors: `tidy(fn)` frees every tensor created inside fn except
// what fn returns (like tf.tidy); `keep(t)` exempts a tensor from its enclosing scope.
export interface Disposable { dispose(): void; readonly __isTensor: true }

const scopes: Set<Disposable>[] = [];

/** Called by every new Tensor: registers it with the innermost open scope. */
export function track(t: Disposable): void {
  if (scopes.length) scopes[scopes.length - 1].add(t);
}

/** Removes a tensor from every open scope so that it outlives them. Returns it. */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

// Any depth (a depth cap used to free tensors nested deeper than 4 levels); `seen` guards cycles.
function collect(value: unknown, out: Set<Disposable>, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  if ((value as Disposable).__isTensor) { out.add(value as Disposable); return; }
  seen.add(value);
  if (Array.isArray(value)) { for (const v of value) collect(v, out, seen); return; }
  if (value instanceof Map) { for (const v of value.values()) collect(v, out, seen); return; }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

/**
 * Runs fn and disposes every tensor created during it, except tensors reachable from its
 * return value (directly, or inside arrays, Maps and plain objects), which move to the outer scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy: fn must be synchronous (it returned a Promise)');
  }
  const kept = new Set<Disposable>();
  collect(result, kept, new Set());
  for (const t of scope) if (!kept.has(t)) t.dispose();
  for (const t of kept) if (scope.has(t)) track(t);
  return result;
}

/** Number of open tidy scopes (for diagnostics). */
export function scopeDepth(): number {
  return scopes.length;
}
