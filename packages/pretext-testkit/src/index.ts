// @moco-robust/pretext-testkit — conformance checks for PretextTaskV1 plugins (Node: loadSample reads files).
export { ConformanceError } from './conformance-error';
export { checkPretextContract } from './check-pretext-contract';
export { recordPretrain } from './record-pretrain';
export { checkPretrainLeavesNoTensors } from './check-pretrain-leaves-no-tensors';
export { checkFinetunesAndEvaluates } from './check-finetunes-and-evaluates';
export { checkResumeIsExact } from './check-resume-is-exact';
export { loadSample } from './load-sample';
export { finiteRange, isTensor, maxAbsDifference, weightCount } from './tensor-checks';
export type { CheckPretextContractOptions, PretextContractReport } from './check-pretext-contract';
export type { EpochEnd, RecordedPretrain } from './record-pretrain';
export type { CheckPretrainLeavesNoTensorsOptions, PretrainTensorReport } from './check-pretrain-leaves-no-tensors';
export type { CheckFinetunesAndEvaluatesOptions, FinetuneEvaluationReport } from './check-finetunes-and-evaluates';
export type { CheckResumeIsExactOptions, ResumeReport, ResumeRun } from './check-resume-is-exact';
export type { LoadSampleOptions, Sample } from './load-sample';
