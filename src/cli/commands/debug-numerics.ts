// `rmc debug-numerics`: where does a compiled model lose accuracy? Runs the
// fp32 model and the compiled one side by side on data (the interpreter with
// the artifact's precisions computes exactly what the artifact does — checked
// on the first batch) and lists, per node in graph order, the error of its
// output: max abs, relative RMS, cosine. It points at the first node where
// the error jumps, and prints the command that pins that node higher.

import type { Graph, Node, TensorType } from "../../ir/types.js";
import { valueInputs, weightInputs } from "../../ir/types.js";
import type { Batch } from "../../data/batch.js";
import { dataSchema } from "../../data/schema.js";
import { readBatches } from "../../data/tsv.js";
import { COLUMNS_FLAG, columnsOf, dataFlag, dataSources } from "../data.js";
import { interpret } from "../../interp/interpreter.js";
import { precisionOf } from "../../ir/attrs.js";
import { nodePrecision } from "../../ir/dump.js";
import type { ReportNodeError } from "../../report/data.js";
import type { Command } from "../command.js";
import { numberFlag, requireFlag } from "../args.js";
import { WEIGHT_FLAGS, loadWeights } from "../model.js";
import { fp32Of, readManifest } from "../artifact.js";
import { JSON_FLAG, printJson, wantsJson } from "../json.js";
import { progress } from "../progress.js";

/**
 * A node's values as f32 activations: a layer that writes int8 codes for the
 * next layer (fold-quant) is compared through its codes dequantized
 * (code · out_scale · s[k]), so its row shows the quantization error there.
 */
function valuesOf(n: Node, v: Float32Array): Float32Array {
  if (typeof n.attrs.out_scale !== "number") return v;
  const scale = n.attrs.out_scale;
  const smooth = Array.isArray(n.attrs.out_smooth) ? (n.attrs.out_smooth as number[]) : undefined;
  const width = (n.type as TensorType).shape[1] as number;
  return v.map((code, i) => code * scale * (smooth ? smooth[i % width]! : 1));
}

/** The op as compiled: a layer with an activation in its epilogue (fuse-epilogue) shows both, e.g. linear+relu. */
const opLabel = (n: Node): string => (typeof n.attrs.act === "string" && n.attrs.act !== "none" ? `${n.op}+${n.attrs.act}` : n.op);

/** Running error statistics of one value. */
class ErrorStats {
  maxAbs = 0;
  sumSqErr = 0;
  sumSqRef = 0;
  dot = 0;
  sumSqGot = 0;
  add(got: Float32Array, ref: Float32Array): void {
    for (let i = 0; i < ref.length; i++) {
      const e = got[i]! - ref[i]!;
      this.maxAbs = Math.max(this.maxAbs, Math.abs(e));
      this.sumSqErr += e * e;
      this.sumSqRef += ref[i]! * ref[i]!;
      this.sumSqGot += got[i]! * got[i]!;
      this.dot += got[i]! * ref[i]!;
    }
  }
  /** RMS error over RMS of the reference (0 = identical). */
  get relative(): number {
    return this.sumSqRef > 0 ? Math.sqrt(this.sumSqErr / this.sumSqRef) : Math.sqrt(this.sumSqErr);
  }
  get cosine(): number {
    return this.sumSqRef > 0 && this.sumSqGot > 0 ? this.dot / Math.sqrt(this.sumSqRef * this.sumSqGot) : 1;
  }
}

/** Adds each table's slice of an embedding_bag output ([B, T, D] stacked, or [B, D]) to its own stats. */
function tableErrors(n: Node, got: Float32Array, ref: Float32Array, into: Map<string, ErrorStats>): void {
  const tables = weightInputs(n);
  const t = tables.length;
  const width = ((n.type as TensorType).shape.slice(1) as number[]).reduce((a, b) => a * b, 1); // per sample: t·dim
  const dim = width / t;
  for (let k = 0; k < t; k++) {
    let s = into.get(tables[k]!);
    if (!s) into.set(tables[k]!, (s = new ErrorStats()));
    const a: number[] = [];
    const b: number[] = [];
    for (let row = 0; row * width < got.length; row++)
      for (let i = 0; i < dim; i++) {
        a.push(got[row * width + k * dim + i]!);
        b.push(ref[row * width + k * dim + i]!);
      }
    s.add(Float32Array.from(a), Float32Array.from(b));
  }
}

/** A node's error "jumps" when its relative RMS error is above 1% and 10x that of its inputs. */
const JUMP = 10;
const JUMP_FLOOR = 1e-2;

export const debugNumerics: Command = {
  spec: {
    name: "debug-numerics",
    usage: "rmc debug-numerics DIST/ --weights FP32.safetensors --data D.tsv",
    summary: "compare a compiled model with its fp32 model node by node; find where error jumps",
    positionals: { min: 1, max: 1 },
    flags: {
      weights: { ...WEIGHT_FLAGS.weights!, doc: "the model's fp32 weights (the reference)" },
      "weights-map": WEIGHT_FLAGS["weights-map"]!,
      data: dataFlag("samples (labels not needed)"),
      columns: COLUMNS_FLAG,
      rows: { type: "string", value: "N", doc: "samples to compare on", default: "2048" },
      ...JSON_FLAG,
    },
  },
  async run(args, io) {
    const cmd = "debug-numerics";
    const dir = args.positionals[0]!;
    const manifest = readManifest(dir);
    const compiled = manifest.ir;
    const fp32 = fp32Of(compiled);
    requireFlag(args, "weights", cmd);
    const weights = loadWeights(fp32, args, io, cmd);
    const batches: Batch[] = [];
    const limit = numberFlag(args, "rows", cmd, { integer: true, min: 1 })!;
    for await (const b of readBatches(dataSources(args, "data", cmd), dataSchema(fp32), { batchSize: 512, limit, ...columnsOf(args, cmd) }))
      batches.push(b);
    const stats = new Map(compiled.nodes.map((n) => [n.id, new ErrorStats()]));
    // Stacked embedding bags: also the error of each table's slice, to name the table at fault.
    const perTable = new Map<string, ErrorStats>();
    const bar = progress("debug-numerics", batches.length, "batches");
    for (const [i, batch] of batches.entries()) {
      bar.update(i);
      const ref = interpret(fp32, weights, batch, { keep: "all" }).values!;
      const got = interpret(compiled, weights, batch, { keep: "all" }).values!;
      for (const n of compiled.nodes) {
        stats.get(n.id)!.add(valuesOf(n, got.get(n.id)!), ref.get(n.id)!);
        if (n.op === "embedding_bag") tableErrors(n, got.get(n.id)!, ref.get(n.id)!, perTable);
      }
    }
    bar.done();
    const { load } = await import("../../runtime/index.js");
    const model = await load(dir, { threads: 1 });
    let agrees = true;
    try {
      const out = await model.predict(batches[0]!.inputs);
      const mine = interpret(compiled, weights, batches[0]!).outputs;
      agrees = compiled.outputs.every((o) => out[o.name]!.every((v, i) => Object.is(v, mine[o.name]![i])));
    } finally {
      await model.close();
    }
    const json = wantsJson(args);
    const human = json ? { ...io, out: () => {} } : io;
    human.out(
      `${manifest.model.name}: compiled model vs fp32 on ${batches.reduce((s, b) => s + b.size, 0)} samples; the artifact ${agrees ? "computes exactly" : "DOES NOT compute exactly"} what the interpreter does with its precisions\n\n`,
    );
    const rows = compiled.nodes.map((n) => [
      `%${n.id}`,
      opLabel(n),
      String(n.span.line),
      nodePrecision(compiled, n),
      stats.get(n.id)!.maxAbs.toExponential(2),
      stats.get(n.id)!.relative.toExponential(2),
      stats.get(n.id)!.cosine.toFixed(6),
    ]);
    const header = ["node", "op", "line", "precision", "max abs", "rel RMS", "cosine"];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    for (const r of [header, ...rows]) human.out(r.map((x, c) => (c >= 4 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join("  ") + "\n");
    const relOf = (id: string) => stats.get(id)?.relative ?? 0;
    const jump = compiled.nodes.find((n) => {
      const before = Math.max(0, ...valueInputs(n).map(relOf));
      return relOf(n.id) > JUMP_FLOOR && relOf(n.id) > JUMP * before;
    });
    const samples = batches.reduce((s, b) => s + b.size, 0);
    const nodes = compiled.nodes.map((n) => ({
      node: n.id,
      op: opLabel(n),
      line: n.span.line,
      precision: nodePrecision(compiled, n),
      maxAbs: stats.get(n.id)!.maxAbs,
      relRms: stats.get(n.id)!.relative,
      cosine: stats.get(n.id)!.cosine,
    }));
    const base = {
      model: manifest.model.name,
      samples,
      exact: agrees,
      nodes,
      tables: Object.fromEntries([...perTable].map(([t, e]) => [t, { maxAbs: e.maxAbs, relRms: e.relative, cosine: e.cosine }])),
    };
    if (!jump) {
      human.out(`\nno node's error jumps (none is above ${JUMP_FLOOR} relative RMS and ${JUMP}x its inputs)\n`);
      if (json) printJson(io, "debug-numerics", true, { ...base, jump: null });
      return 0;
    }
    const worstTable = weightInputs(jump).sort((a, b) => (perTable.get(b)?.relative ?? 0) - (perTable.get(a)?.relative ?? 0))[0];
    const target = jump.op === "embedding_bag" && worstTable ? worstTable : jump.id;
    if (json)
      printJson(io, "debug-numerics", true, {
        ...base,
        jump: {
          node: jump.id,
          op: opLabel(jump),
          line: jump.span.line,
          precision: nodePrecision(compiled, jump),
          relRms: relOf(jump.id),
          pin: target,
        },
      });
    human.out(
      `\nerror first jumps at %${jump.id} (${opLabel(jump)}, ${jump.span.file}:${jump.span.line}, ${nodePrecision(compiled, jump)}): relative RMS ${relOf(jump.id).toExponential(2)}, ${Math.max(0, ...valueInputs(jump).map(relOf)).toExponential(2)} at its inputs\n`,
    );
    if (target !== jump.id)
      human.out(
        `its worst table: ${target} (${precisionOf(
          compiled.weights.find((d) => d.name === target)!,
          jump,
        )}), relative RMS ${perTable.get(target)!.relative.toExponential(2)}\n`,
      );
    human.out(
      `to keep it at fp32, recompile with a pin:\n  rmc compile ${jump.span.file} --weights <fp32 weights> --precision ${(manifest.plan as { mode?: string } | undefined)?.mode === "auto" ? "auto --calib <data>" : "<mode>"} --pin ${target}=fp32 -o ${dir}\n`,
    );
    return 0;
  },
};

/** The per-node errors of `compiled` against `fp32` on `batches` (the table this command prints), for `rmc compile --report`. */
export function nodeErrors(compiled: Graph, fp32: Graph, weights: Parameters<typeof interpret>[1], batches: readonly Batch[]): ReportNodeError[] {
  const stats = new Map(compiled.nodes.map((n) => [n.id, new ErrorStats()]));
  for (const batch of batches) {
    const ref = interpret(fp32, weights, batch, { keep: "all" }).values!;
    const got = interpret(compiled, weights, batch, { keep: "all" }).values!;
    for (const n of compiled.nodes) stats.get(n.id)!.add(valuesOf(n, got.get(n.id)!), ref.get(n.id)!);
  }
  return compiled.nodes.map((n) => {
    const s = stats.get(n.id)!;
    return {
      id: n.id,
      op: opLabel(n),
      line: n.span.line,
      precision: nodePrecision(compiled, n),
      maxAbs: s.maxAbs,
      relative: s.relative,
      cosine: s.cosine,
    };
  });
}
