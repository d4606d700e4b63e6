// Per-class aggregation shared by every localization metric, and the base class of the per-image metrics.
import { checkLabels } from './check.js';

/** A metric's value over all images and over the images of each class (null for a class without images). */
export interface ByClass<T> {
  overall: T;
  perClass: (T | null)[];
  /** Images per class. */
  counts: number[];
}

/** Reduces per-image records over all images and over each class's images (in image order). */
export function byClass<R, T>(records: readonly R[], labels: ArrayLike<number>, numClasses: number, reduce: (records: R[]) => T): ByClass<T> {
  checkLabels('labels', labels, records.length, numClasses);
  const groups: R[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < records.length; i++) groups[Number(labels[i])].push(records[i]);
  return {
    overall: reduce(records.slice()),
    perClass: groups.map((g) => (g.length ? reduce(g) : null)),
    counts: groups.map((g) => g.length),
  };
}

/** Plain sum in index order and mean (NaN for none). */
export function meanInOrder(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length ? s / values.length : NaN;
}

/**
 * A localization metric computed image by image and reduced over a set of images: `evaluate` computes
 * every image's record once and reduces it overall and per class. Subclasses check their inputs in the
 * constructor.
 */
export abstract class LocalizationMetric<R, T> {
  abstract readonly name: string;
  protected constructor(readonly n: number) {}

  /** The record of image i (an IoU, a hit, a histogram...). */
  abstract perImage(i: number): R;

  /** The metric over a set of image records. */
  abstract reduce(records: R[]): T;

  records(): R[] {
    return Array.from({ length: this.n }, (_, i) => this.perImage(i));
  }

  /** The metric over all images and per class of `labels` [N]. */
  evaluate(labels: ArrayLike<number>, numClasses: number): ByClass<T> {
    return byClass(this.records(), labels, numClasses, (r) => this.reduce(r));
  }
}
