export { finetune } from './finetune';
export type { FinetuneEvent, FinetuneOptions, FinetuneResult } from './finetune';
export { PAPER_FINETUNE, STANDARD_FINETUNE, resolveFinetuneConfig } from './finetune-config';
export type { FinetuneConfig } from './finetune-config';
export { composeClassifier, finetuneVariables } from './classifier';
export type { Classifier } from './classifier';
export { evaluateRobustness, fraction255, PAPER_ROBUSTNESS, STANDARD_ROBUSTNESS } from './evaluate-robustness';
export type { AccuracyResult, EvaluateEvent, RobustnessResult, RobustnessSettings } from './evaluate-robustness';
/** @deprecated moved to `@moco-robust/data`; re-exported for compatibility. */
export { randomCropFlip } from '@moco-robust/data';
export { robustnessMarkdown, robustnessTable } from './reports/robustness-markdown';
export { evaluateCorruptions, generatedCorruptions, summarizeCorruptions } from './evaluate-corruptions';
export type {
  CorruptionAccuracy,
  CorruptionBlock,
  CorruptionEvalEvent,
  CorruptionResult,
  EvaluateCorruptionsOptions,
  SkippedCorruption,
} from './evaluate-corruptions';
export { createRunReport, PAPER_TABLE_1 } from './reports/run-report';
export type { QuotedResult, RunReport } from './reports/run-report';
export { comparisonMarkdown, corruptionMarkdown, reportMarkdown } from './reports/report-markdown';
export { comparisonChart, corruptionChart, groupedBarChart } from './reports/svg-charts';
export type { BarChartOptions, BarSeries } from './reports/svg-charts';
export { reportHtml } from './reports/report-html';
export type { ReportHtmlOptions } from './reports/report-html';
export { pretrainingLabels } from './reports/pretraining-labels';
export type { PretrainingRecord } from './reports/pretraining-labels';
export { collectExamples } from './reports/examples';
export type { CollectExamplesOptions, ExampleGrid, ExampleRow } from './reports/examples';
export { createGridReport, evaluationLabel, gridRowLabel } from './reports/grid-report';
export type { GridCellRecord, GridEntry, GridReport, GridRow } from './reports/grid-report';
export { gridReportMarkdown, formatDuration } from './reports/grid-report-markdown';
export { gridReportHtml } from './reports/grid-report-html';
export { gridCharts } from './reports/grid-report-charts';
export { gridClaims } from './reports/grid-claims';
export type { GridClaim } from './reports/grid-claims';
export type { GridChart } from './reports/grid-report-charts';
export { formatSummary, pairedDifference, studentTCdf, studentTQuantile, summarizeSeeds } from './reports/statistics';
export type { PairedDifference, SeedSummary } from './reports/statistics';
