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

/** The plan in fma mode on the search's rows and on the held-back ones (if any), kept up to date with each undo. */
export class FmaCheck {
  private readonly evS: IncrementalEvaluator;
  private readonly evH: IncrementalEvaluator | undefined;
  /** The yardstick on the rows that decide: the held-back ones when there are some, else the search's own. */
  private readonly deciding: ExpectedNE;
  /** Rows the verdict is on, and whether they were held back. */
  readonly rows: number;
  readonly heldBack: boolean;

  /**
   * `fp32`: the search's all-fp32 graph; `reference*`: the fp32 model's outputs on the search rows and the held-back
   * rows (unfused, as the search's own yardsticks have them).
   */
  constructor(
    fp32: Graph,
    weights: WeightStore,
    searchRows: readonly Batch[],
    heldRows: readonly Batch[],
    tables: ReadonlyMap<string, TableChoice>,
    rowRange: RowRange,
    referenceSearch: BatchOutputs,
    referenceHeld: BatchOutputs | undefined,
  ) {
    this.evS = new IncrementalEvaluator(fp32, weights, searchRows, tables, rowRange, true);
    this.evH = heldRows.length > 0 ? new IncrementalEvaluator(fp32, weights, heldRows, tables, rowRange, true) : undefined;
    this.heldBack = this.evH !== undefined;
    this.deciding = this.evH ? new ExpectedNE(referenceHeld!, weights, heldRows) : new ExpectedNE(referenceSearch, weights, searchRows);
    this.rows = (this.heldBack ? heldRows : searchRows).reduce((n, b) => n + b.size, 0);
  }

  /** Makes `change` to the plan (both row sets). */
  apply(change: Change): void {
    this.evS.commit(this.evS.trial(change));
    this.evH?.commit(this.evH.trial(change));
  }

  /** The expected NE delta (%) and its standard error on the deciding rows. */
  verdict(): { delta: number; error: number } {
    const delta = this.deciding.deltaOf((this.evH ?? this.evS).current.outputs);
    return { delta, error: this.deciding.lastError };
  }

  /** The same over every calibration row, with `all` (the search's yardstick on them, search rows first). */
  overall(all: ExpectedNE): { delta: number; error: number } {
    const delta = all.deltaOf([...this.evS.current.outputs, ...(this.evH?.current.outputs ?? [])]);
    return { delta, error: all.lastError };
  }
}
