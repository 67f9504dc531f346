/** Evaluation of search quality (sluice eval) and the pieces self-calibration reuses. */
export { GRID, chooseWeight } from './choose-weight.js';
export { ApiClient, type Mode } from './client.js';
export { type EvalReport, type Progress, evaluate } from './evaluate.js';
export { mean } from './metrics.js';
export { holdOut } from './pseudo-queries.js';
export { type JudgedQuery, type Passage, scoreWeights } from './score-weights.js';
