/**
 * The protocol-era matrix (issue 3, point 6): an agent of every released MCP version (rows) reaches an
 * upstream of every released version (columns) through one gateway, each side in its own version. Every
 * cell checks the handshake (initialize, or server/discover for 2026-07-28), tools/list, structured
 * output, resources/read, prompts/get, progress on the agent's token, and an elicitation and a sampling
 * round trip where both eras can express them; the table is printed to the log. A federated check asks
 * `/mcp` (merging all five upstreams) for every upstream's tools as an agent of each era (point 5).
 * `ERA_MATRIX_CELLS=<agent>><upstream>,...` restricts the run to the cells it lists (the federated check
 * then expects, per agent era, the upstreams of its listed cells); unset, all 25 cells run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MATRIX_ERAS,
  checkFederatedTools,
  eraServerName,
  matrixFailures,
  renderMatrix,
  runCell,
  selectCells,
  type CheckOutcome,
  type MatrixEra,
} from '@meshgate/testing';
import { mapConcurrently, startEraGateway, type EraGateway } from '../src/era-gateway';

/** Bound on each step of a cell; a step that takes longer fails with that reason. */
const STEP_MS = 20_000;
/** Cells that run side by side (they share no state; the machine is small). */
const CONCURRENT_CELLS = 5;

const cells = selectCells(process.env['ERA_MATRIX_CELLS']);
let eras: EraGateway;

beforeAll(async () => {
  eras = await startEraGateway();
}, 120_000);

afterAll(async () => {
  await eras?.stop();
});

describe('protocol-era matrix', () => {
  it(
    `every agent era reaches every upstream era through a per-server endpoint (${cells.length} cells)`,
    async () => {
      const results = await mapConcurrently(cells, CONCURRENT_CELLS, (cell) =>
        runCell({ ...cell, url: eras.agentUrl(cell.agent, cell.upstream), stepTimeoutMs: STEP_MS }),
      );
      const failures = matrixFailures(results);
      console.log(
        [
          '',
          'Protocol-era matrix (rows: agent era, columns: upstream era; passed/applicable checks)',
          renderMatrix(results, MATRIX_ERAS),
          ...(failures.length > 0 ? ['', 'Failed checks:', ...failures.map((line) => `  ${line}`)] : []),
          '',
        ].join('\n'),
      );
      expect(failures).toEqual([]);
    },
    30 * 60_000,
  );

  it(
    'the federated /mcp lists the tools of upstreams of every era for an agent of every era',
    async () => {
      const agents = MATRIX_ERAS.filter((agent) => cells.some((cell) => cell.agent === agent));
      const outcomes = await mapConcurrently(agents, CONCURRENT_CELLS, async (agent) => {
        const upstreams = cells
          .filter((cell) => cell.agent === agent)
          .map((cell) => ({ era: cell.upstream, server: eraServerName(cell.upstream) }));
        const outcome = await checkFederatedTools({
          agent,
          url: eras.agentUrl(agent),
          upstreams,
          stepTimeoutMs: STEP_MS,
        });
        return [agent, outcome] as const;
      });
      const line = ([agent, outcome]: readonly [MatrixEra, CheckOutcome]) =>
        `  ${agent}: ${outcome.status === 'fail' ? `FAIL: ${outcome.reason}` : outcome.status}`;
      console.log(
        ['', 'Federated /mcp, tools of every upstream era, per agent era:', ...outcomes.map(line), ''].join(
          '\n',
        ),
      );
      expect(outcomes.filter(([, outcome]) => outcome.status !== 'pass')).toEqual([]);
    },
    10 * 60_000,
  );
});
