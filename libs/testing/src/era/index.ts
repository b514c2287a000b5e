/**
 * The protocol-era matrix kit: one upstream fixture and one agent per released MCP version, the checks of
 * one matrix cell, the federated check, the selection of cells and the printed table.
 */
export {
  MATRIX_ERAS,
  MATRIX_FEATURES,
  MODERN_ERA,
  MatrixEra,
  hasElicitation,
  hasStructuredOutput,
  isModernEra,
  notExpressible,
  usesLegacySse,
  type InitializeEra,
  type MatrixFeature,
} from './matrix-eras';
export {
  MATRIX_FORM,
  MATRIX_FORM_ANSWER,
  MATRIX_TOOLS,
  matrixToolNames,
  samplingAnswer,
} from './matrix-fixture-spec';
export { eraServerName, startEraUpstream, type EraUpstream } from './era-upstream';
export { connectEraAgent, type EraAgent, type EraAgentOptions } from './era-agent';
export { NOT_CONNECTED, runCell, type CellResult, type CellTarget, type CheckOutcome } from './matrix-cell';
export { checkFederatedTools, federatedToolNames, type FederatedTarget } from './federated-check';
export { allCells, selectCells, type MatrixCell } from './matrix-selection';
export { cellSummary, matrixFailures, renderMatrix } from './matrix-report';
