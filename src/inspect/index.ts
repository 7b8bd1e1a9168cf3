/**
 * Looking at runs from the terminal (`tudui ls`, `show`, `compare`) as library functions that return data and text;
 * the CLI commands only parse options and print. Reads run and sweep directories through src/run/layout.ts, never
 * writes, and never loads TensorFlow.
 */
export { listRuns, formatRunList, type ListOptions, type RunList } from './ls.js';
export { runReport, formatRunReport, plotTag, followRun, tagStats, type RunReport, type TagStats } from './show.js';
export { compareRuns, formatComparison, type Comparison } from './compare.js';
export { loadRuns, loadRun, loadNamedRuns, type RunRecord, type ListedStatus } from './runs.js';
export { parseColumn, parseColumns, DEFAULT_COLUMNS, describeColumns, type Column } from './columns.js';
export { outputFormat, renderTable, sparkline, meanStd, type OutputFormat, type Cell } from './format.js';
