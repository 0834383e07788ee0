// Provenance of a compile: which pass created, changed or absorbed each node
// and weight, recorded from the pass manager's onStep hook and written into
// the manifest (`provenance`) so that `rmc explain` can answer "where did
// this node come from" without recompiling. It reads only the graphs each
// step was given and returned: IR is immutable (immer shares what a pass did
// not touch), so a node object that differs is one the pass changed; this
// works for plugin passes too, which record nothing themselves.

import type { Graph, Node } from "../ir/types.js";
import { valueInputs } from "../ir/types.js";

/** The manifest's `provenance` section's format tag. */
export const PROVENANCE_FORMAT = "rmc-provenance/1";

/** What happened to one node or weight, in pipeline order. */
export interface History {
  /** The pass that made it (absent: the front end did, from its source line). */
  created?: string;
  /** Passes that changed it, in order (a pass appears once). */
  changed: string[];
  /** Nodes a pass removed into this one (fusions): their id, op and the pass. */
  absorbed: { node: string; op: string; pass: string }[];
}

/** The manifest's `provenance` section. */
export interface Provenance {
  format: typeof PROVENANCE_FORMAT;
  /** The pipeline's passes, in the order they ran. */
  passes: string[];
  nodes: Record<string, History>;
  weights: Record<string, History>;
  /** Nodes no longer in the final IR: the pass that removed them, and the node that absorbed them, if one did. */
  removed: Record<string, { op: string; pass: string; into?: string }>;
}

const fresh = (created?: string): History => ({ ...(created ? { created } : {}), changed: [], absorbed: [] });

/**
 * The node of a step's output that took `gone` in: one the pass created or
 * changed that reads `gone`'s own input (an epilogue folded into the layer it
 * follows), else one that reads what `gone` read (bags batched into one).
 */
function absorber(gone: Node, touched: readonly Node[]): Node | undefined {
  const reads = valueInputs(gone);
  return touched.find((n) => reads.includes(n.id)) ?? touched.find((n) => valueInputs(n).some((v) => reads.includes(v)));
}

/**
 * A recorder for one pipeline run: `step` is the Instrumentation's onStep;
 * `result` the section to write. `before` is the history of a graph compiled
 * already (verify --repair recompiles an artifact's IR): it is carried on.
 */
export function provenanceRecorder(before?: Provenance): {
  step: (pass: string, input: Graph, output: Graph) => void;
  result: (final: Graph) => Provenance;
} {
  const copy = (h: History): History => ({ ...h, changed: [...h.changed], absorbed: [...h.absorbed] });
  const passes: string[] = [...(before?.passes ?? [])];
  const nodes = new Map<string, History>(Object.entries(before?.nodes ?? {}).map(([k, h]) => [k, copy(h)]));
  const weights = new Map<string, History>(Object.entries(before?.weights ?? {}).map(([k, h]) => [k, copy(h)]));
  const removed: Provenance["removed"] = { ...(before?.removed ?? {}) };
  const note = (h: History, pass: string) => void (h.changed.includes(pass) || h.created === pass || h.changed.push(pass));
  return {
    step(pass, input, output) {
      passes.push(pass);
      if (input === output) return;
      const before = new Map(input.nodes.map((n) => [n.id, n]));
      const touched: Node[] = [];
      for (const n of output.nodes) {
        const old = before.get(n.id);
        if (old === n) continue;
        touched.push(n);
        if (!old) nodes.set(n.id, fresh(pass));
        else note(nodes.get(n.id) ?? nodes.set(n.id, fresh()).get(n.id)!, pass);
      }
      const after = new Set(output.nodes.map((n) => n.id));
      for (const gone of input.nodes.filter((n) => !after.has(n.id))) {
        const into = absorber(gone, touched);
        removed[gone.id] = { op: gone.op, pass, ...(into ? { into: into.id } : {}) };
        if (into) nodes.get(into.id)!.absorbed.push({ node: gone.id, op: gone.op, pass });
      }
      const declared = new Map(input.weights.map((w) => [w.name, w]));
      for (const w of output.weights) {
        const old = declared.get(w.name);
        if (old === w) continue;
        if (!old) weights.set(w.name, fresh(pass));
        else note(weights.get(w.name) ?? weights.set(w.name, fresh()).get(w.name)!, pass);
      }
    },
    result(final) {
      const pick = (ids: string[], from: Map<string, History>) => Object.fromEntries(ids.map((id) => [id, from.get(id) ?? fresh()]));
      return {
        format: PROVENANCE_FORMAT,
        passes,
        nodes: pick(
          final.nodes.map((n) => n.id),
          nodes,
        ),
        weights: pick(
          final.weights.map((w) => w.name),
          weights,
        ),
        removed,
      };
    },
  };
}
