// The precision search's check of its plan under the other numerics the
// artifact may run. A Wasm artifact ships a relaxed-SIMD variant beside the
// SIMD128 one and the engine picks at load; its f32 multiply-adds
// (f32x4.relaxed_madd) fuse on some engines and not on others, so a plan must
// be within budget both ways. The search chooses with the unfused
// interpreter; this evaluates the plan again in the interpreter's fused
// multiply-add mode, against the same reference (the fp32 model unfused: the
// interpreter's default defines what the model means), on the rows the
// held-back check decides on, and over every calibration row for the figures
// in the plan. search.ts backs changes off while it is over (step 3).

import type { Graph } from "../ir/types.js";
import type { Batch } from "../data/batch.js";
import type { WeightStore } from "../weights/store.js";
import type { RowRange } from "../quant/rowwise.js";
import { type BatchOutputs, ExpectedNE } from "./evaluate.js";
import { type Change, IncrementalEvaluator, type TableChoice } from "./incremental.js";

/** The plan in fma mode on the rows that decide, kept up to date with each undo; the other rows only for the final figure. */
export class FmaCheck {
  private readonly deciding: IncrementalEvaluator;
  private readonly ne: ExpectedNE;
  private graph: Graph;
  private readonly tables: Map<string, TableChoice>;
  /** Rows the verdict is on, and whether they were held back (else: the rows the search chose on). */
  readonly rows: number;
  readonly heldBack: boolean;

  /**
   * `plan`: the search's result (layer precisions in its graph, every table's choice); `reference*`: the fp32
   * model's outputs on the search rows and the held-back rows (unfused, as the search's own yardsticks have them).
   */
  constructor(
    private readonly weights: WeightStore,
    private readonly searchRows: readonly Batch[],
    private readonly heldRows: readonly Batch[],
    private readonly rowRange: RowRange,
    referenceSearch: BatchOutputs,
    referenceHeld: BatchOutputs | undefined,
    plan: { graph: Graph; tables: ReadonlyMap<string, TableChoice> },
  ) {
    this.heldBack = heldRows.length > 0;
    const rows = this.heldBack ? heldRows : searchRows;
    this.graph = plan.graph;
    this.tables = new Map(plan.tables);
    // Built on the plan itself, not on the fp32 model: one full evaluation of the rows, in fma mode.
    this.deciding = new IncrementalEvaluator(plan.graph, weights, rows, this.tables, rowRange, { fma: true });
    this.ne = new ExpectedNE(this.heldBack ? referenceHeld! : referenceSearch, weights, rows);
    this.rows = rows.reduce((n, b) => n + b.size, 0);
  }

  /** Makes `change` to the plan. */
  apply(change: Change): void {
    this.deciding.commit(this.deciding.trial(change));
    if (change.graph) this.graph = change.graph;
    for (const [t, c] of change.tables ?? []) this.tables.set(t, c);
  }

  /** The expected NE delta (%) and its standard error on the deciding rows. */
  verdict(): { delta: number; error: number } {
    const delta = this.ne.deltaOf(this.deciding.current.outputs);
    return { delta, error: this.ne.lastError };
  }

  /** The same over every calibration row, with `all` (the search's yardstick on them, search rows first). */
  overall(all: ExpectedNE): { delta: number; error: number } {
    const outputs = this.heldBack
      ? [
          ...new IncrementalEvaluator(this.graph, this.weights, this.searchRows, this.tables, this.rowRange, { fma: true }).current.outputs,
          ...this.deciding.current.outputs,
        ]
      : this.deciding.current.outputs;
    const delta = all.deltaOf(outputs);
    return { delta, error: all.lastError };
  }
}
