// One decision of the precision search, a fixed mode, a plan file or a
// repair: the unit, the precision it got, where that came from and why. The
// plan file is a list of these, and the report prints them; every producer
// builds them here, so a pin's reason is worded the same everywhere.

import type { Unit } from "./units.js";

/** What was decided for one unit, and why. */
export interface Decision {
  unit: string;
  kind: Unit["kind"];
  line: number;
  precision: string;
  source: "pin" | "search" | "mode" | "plan" | "repair";
  /** For a pin: the command line's (`--pin`, which wins over the model's) or, when absent, the model's `@precision`. */
  pin?: "command line";
  bytesBefore: number;
  bytesAfter: number;
  /** NE delta (%) of this unit's precision alone, when measured. */
  neDeltaAlone?: number;
  /** NE delta (%) of the whole model right after this unit was lowered. */
  neDeltaCumulative?: number;
  /** For a change the search took: its place (1-based) in the order the search took changes. */
  step?: number;
  why: string;
  /**
   * A table the search split hot/cold: its `hot` row ids (ascending) are stored
   * at `precision`, the other rows at `cold`; `lookups` is the share of the
   * calibration lookups the hot rows served. Applied again from a plan file.
   */
  split?: { hot: number[]; cold: string; lookups?: number };
}

/** A decision for `u` at `precision`, with its bytes before and after. */
export function decide(u: Unit, precision: string, source: Decision["source"], why: string): Decision {
  return { unit: u.id, kind: u.kind, line: u.line, precision, source, bytesBefore: u.bytes("fp32"), bytesAfter: u.bytes(precision), why };
}

/** Where a pin given on the command line (`--pin`, or a plan's pin from one) came from, and the model pin it replaced. */
export interface PinOrigin {
  precision: string;
  /** The model's own `@precision` for that unit, if it had one. */
  over?: string;
}

/** The decision for a pinned unit, saying which pin it was: a command-line one wins over the model's, and says so. */
export function pinDecision(u: Unit, origins?: ReadonlyMap<string, PinOrigin>): Decision {
  const cli = origins?.get(u.id);
  if (!cli) return decide(u, u.pinned!, "pin", `pinned with @precision(${u.pinned}) at line ${u.line}`);
  const over = cli.over ? ` (over the model's @precision(${cli.over}) at line ${u.line})` : "";
  return { ...decide(u, cli.precision, "pin", `pinned with --pin ${u.id}=${cli.precision}${over}`), pin: "command line" };
}
