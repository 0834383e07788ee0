// Collects the nodes and initializers of an ONNX graph while the exporter
// (export.ts, through the per-op lowerings of lower.ts) walks the IR. The same
// builder makes the importer's templates: a lowering run on placeholder
// operands gives the exact subgraph rmc writes for an op, which match.ts then
// looks for in a file. Names are deterministic: an IR node's main ONNX node is
// called by the IR id, its helpers `ID/Op`, `ID/Op.1`, ...; constants are
// shared by content.

import { type AttrInput, type NodeProto, type TensorProto, attribute, floatTensor, int64Tensor } from "./proto.js";

/** Options of one ONNX node. */
export interface NodeOptions {
  /** The node's (and its single output's) name; default: `SCOPE/Op`, numbered when taken. */
  name?: string;
  /** Number of outputs (named `NAME:0`, `NAME:1`, ...) when more than one. */
  outputs?: number;
  attrs?: Record<string, AttrInput>;
  /** Free text on the node; rmc keeps IR attributes ONNX cannot express here. */
  doc?: string;
}

/** An ONNX graph in the making. */
export class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();
  /** Prefix of helper node names: the IR node being lowered. */
  scope = "";

  /** Claims a name: `base` if free, else `base.1`, `base.2`, ... */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}.${k}`;
    this.taken.add(name);
    return name;
  }

  /** Marks names as used (graph inputs, weights) so helpers never take them. */
  reserve(...names: string[]): void {
    for (const n of names) this.taken.add(n);
  }

  /** Adds a node and returns its output names. */
  nodeMulti(op: string, inputs: readonly string[], opts: NodeOptions = {}): string[] {
    const name = opts.name !== undefined ? this.fresh(opts.name) : this.fresh(`${this.scope}/${op}`);
    const count = opts.outputs ?? 1;
    const output = count === 1 ? [name] : Array.from({ length: count }, (_, i) => `${name}:${i}`);
    for (const o of output) this.taken.add(o);
    const attribute_ = Object.entries(opts.attrs ?? {}).map(([k, v]) => attribute(k, v));
    this.nodes.push({
      input: [...inputs],
      output,
      name,
      opType: op,
      ...(attribute_.length ? { attribute: attribute_ } : {}),
      ...(opts.doc ? { docString: opts.doc } : {}),
    });
    return output;
  }

  /** Adds a single-output node and returns its output name. */
  node(op: string, inputs: readonly string[], opts: NodeOptions = {}): string {
    return this.nodeMulti(op, inputs, opts)[0]!;
  }

  /** Adds an initializer under its own name. */
  initializer(t: TensorProto): string {
    this.taken.add(t.name!);
    this.initializers.push(t);
    return t.name!;
  }

  /** An int64 constant (shared by every user of the same values and shape); scalars have dims []. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64[${dims.join(",")}]${values.join(",")}`;
    return this.shared(key, () => int64Tensor(this.fresh(constantName("i64", values, dims)), dims, values));
  }

  /** A float32 constant, shared like int64's. */
  float(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `f32[${dims.join(",")}]${values.join(",")}`;
    return this.shared(key, () => floatTensor(this.fresh(constantName("f32", values, dims)), dims, Float32Array.from(values)));
  }

  private shared(key: string, make: () => TensorProto): string {
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.initializer(make());
    this.constants.set(key, name);
    return name;
  }
}

/** `const.i64.1`, `const.f32.-inf`, `const.i64.[2]`: short, readable, and in the graph only once. */
function constantName(type: string, values: readonly number[], dims: readonly number[]): string {
  const shown = values.length <= 4 ? values.map((v) => String(v).replace("Infinity", "inf")).join("_") : `${values.length}values`;
  return `const.${type}${dims.length ? `.[${shown}]` : `.${shown}`}`;
}
