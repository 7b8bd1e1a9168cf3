/** Per-class precision / recall / F1 from a confusion matrix (`tudui eval`); no tfjs. */

export interface ClassStats {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Examples of this class in the split. */
  support: number;
}

/**
 * Per-class precision, recall and F1 from confusion[true][predicted], like scikit-learn's classification_report
 * (a ratio with nothing to divide is 0), with their unweighted (macro) and support-weighted means.
 */
export function classReport(confusion: number[][], names: string[]): { classes: ClassStats[]; macro: Omit<ClassStats, 'name'>; weighted: Omit<ClassStats, 'name'> } {
  const n = confusion.length;
  const ratio = (a: number, b: number) => (b ? a / b : 0);
  const classes = names.slice(0, n).map((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { name, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const total = classes.reduce((a, s) => a + s.support, 0);
  const mean = (w: (s: ClassStats) => number, d: number) => ({
    precision: ratio(classes.reduce((a, s) => a + w(s) * s.precision, 0), d),
    recall: ratio(classes.reduce((a, s) => a + w(s) * s.recall, 0), d),
    f1: ratio(classes.reduce((a, s) => a + w(s) * s.f1, 0), d),
    support: total,
  });
  return { classes, macro: mean(() => 1, n), weighted: mean((s) => s.support, total) };
}
