// @moco-robust/eval — fine-tune, measure (clean, FGSM, PGD, AutoAttack, CIFAR-10-C) and report.
// (The `node` export condition adds official CIFAR-10-C arrays and written reports: see index.node.ts.)

// Fine-tuning: linear, partial or full; standard or adversarial (paper and standard protocols)
export { finetune } from './finetune';
export type { FinetuneEvent, FinetuneOptions, FinetuneResult } from './finetune';
export { PAPER_FINETUNE, STANDARD_FINETUNE, resolveFinetuneConfig } from './finetune-config';
export { FINETUNE_LOSSES, FINETUNE_MODES, FINETUNE_SCHEDULES } from './finetune-config';
export type { FinetuneConfig } from './finetune-config';
export type { Classifier } from './classifier';

// Clean and robust accuracy (FGSM, PGD, AutoAttack)
export { evaluateRobustness, PAPER_ROBUSTNESS, STANDARD_ROBUSTNESS } from './evaluate-robustness';
export { validateRobustnessSettings } from './evaluate-robustness';
export type { AccuracyResult, EvaluateEvent, RobustnessResult, RobustnessSettings } from './evaluate-robustness';
export { attackImages } from './attack-images';
export type { AttackImagesOptions, AttackImagesResult, ImageAttackName, RepresentationShift } from './attack-images';

// CIFAR-10-C accuracy per corruption × severity
export { evaluateCorruptions, generatedCorruptions } from './evaluate-corruptions';
export type { CorruptionAccuracy, CorruptionBlock, CorruptionEvalEvent } from './evaluate-corruptions';
export type { CorruptionResult, EvaluateCorruptionsOptions, SkippedCorruption } from './evaluate-corruptions';

// Run reports: one run's numbers beside the paper's Table 1, as Markdown and HTML
export { createRunReport, PAPER_TABLE_1 } from './reports/run-report';
export type { QuotedResult, RunReport } from './reports/run-report';
export { reportMarkdown } from './reports/report-markdown';
export { reportHtml } from './reports/report-html';
export type { ReportHtmlOptions } from './reports/report-html';
export { fraction255 } from './evaluate-robustness';
export { robustnessTable } from './reports/robustness-markdown';
export { pretrainingLabels } from './reports/pretraining-labels';
export type { PretrainingRecord } from './reports/pretraining-labels';
export { collectExamples } from './reports/examples';
export type { CollectExamplesOptions, ExampleGrid, ExampleRow } from './reports/examples';

// Grid reports: cells over methods × seeds, Student-t intervals and paired differences
export { createGridReport } from './reports/grid-report';
export type { GridCellRecord, GridEntry, GridReport, GridRow } from './reports/grid-report';
export { formatDuration, gridReportMarkdown } from './reports/grid-report-markdown';
export { gridReportHtml } from './reports/grid-report-html';
export { gridCharts } from './reports/grid-report-charts';
export type { GridChart } from './reports/grid-report-charts';
export type { GridClaim } from './reports/grid-claims';
export type { PairedDifference, SeedSummary } from './reports/statistics';
