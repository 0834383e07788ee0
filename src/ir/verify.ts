// The IR verifier: a table of rules, each checking one property every valid
// graph has (names unique, operands defined before use, attributes and types
// as the op table says). The pass manager runs it on the pipeline's input and
// after every pass; each diagnostic names the node and carries its span.

import { didYouMean, error, type Code, type Diagnostic } from "../diagnostics/index.js";
import { findCycles } from "./analysis.js";
import { graphTypeEnv, inferNodeType, type TypeEnv } from "./build.js";
import { COMMON_ATTRS, OP_NAMES, checkAttr, opDef, type OpDef, ID_POLICIES } from "./ops.js";
import type { Graph, Node, Span, Type } from "./types.js";
import { BATCH, formatType, isValueRef, isWeightRef, printNumber, refName, typesEqual } from "./types.js";
import { LIMITS } from "./limits.js";

/** Diagnostic codes of the verifier, one per rule. */
export const VERIFY_CODES = {
  unknownOp: "E1101",
  operandCount: "E1102",
  operandOrder: "E1103",
  undefinedValue: "E1104",
  useBeforeDef: "E1105",
  cycle: "E1106",
  undefinedWeight: "E1107",
  duplicate: "E1108",
  unknownAttr: "E1109",
  invalidAttr: "E1110",
  missingAttr: "E1111",
  missingType: "E1112",
  typeMismatch: "E1113",
  typeError: "E1114",
  badOutput: "E1115",
  badWeight: "E1116",
  badOperand: "E1117",
  badInput: "E1118",
} as const satisfies Record<string, Code>;

/** Verifier options. */
export interface VerifyOptions {
  /** Accept nodes whose type is null (between a pass that builds nodes and infer-shapes). */
  allowUntyped?: boolean;
}

/** What the rules share: lookups built once per verification. */
interface Scope {
  g: Graph;
  opts: VerifyOptions;
  /** Where each value is first defined: -1 for inputs, else its node index. */
  defIndex: Map<string, number>;
  weightNames: Set<string>;
  /** Dependence cycles (node ids, program order), found once per verification. */
  cycles: string[][];
  /** Node ids that lie on a dependence cycle. */
  inCycle: Set<string>;
  /** Node ids already reported as broken; their readers skip the type rule (the error is upstream). */
  broken: Set<string>;
  env: TypeEnv;
}

interface NodeRule {
  name: string;
  /** Rules marked so run only on nodes that passed every earlier rule (their checks would only cascade). */
  needsWellFormed?: boolean;
  check(n: Node, index: number, s: Scope): Diagnostic[];
}

interface GraphRule {
  name: string;
  check(s: Scope): Diagnostic[];
}

const at = (n: Node, code: Code, message: string, hint?: string): Diagnostic => error(code, `%${n.id}: ${message}`, n.span, hint);
const where = (s: Span): string => (s.line > 0 ? `${s.file}:${s.line}` : s.file);
const isPositiveInt = (d: unknown): boolean => Number.isInteger(d) && (d as number) > 0;
/** A size as the limits allow one (src/ir/limits.ts): passes and kernels allocate by these. */
const isSize = (d: unknown, most: number = LIMITS.size): boolean => isPositiveInt(d) && (d as number) <= most;

/** Reports later entries whose `key` repeats an earlier one. */
function duplicates<T extends { span: Span }>(items: readonly T[], key: (t: T) => string, what: string): Diagnostic[] {
  const first = new Map<string, T>();
  const out: Diagnostic[] = [];
  for (const item of items) {
    const k = key(item);
    const prev = first.get(k);
    if (prev) out.push(error(VERIFY_CODES.duplicate, `${what} ${k} is defined twice (first at ${where(prev.span)})`, item.span));
    else first.set(k, item);
  }
  return out;
}

const GRAPH_RULES: GraphRule[] = [
  {
    name: "unique-names",
    check: ({ g }) => {
      const inputNames = new Set(g.inputs.map((i) => i.name));
      return [
        ...duplicates(g.inputs, (i) => `%${i.name}`, "input"),
        ...duplicates(g.nodes, (n) => `%${n.id}`, "value"),
        ...duplicates(g.weights, (w) => `@${w.name}`, "weight"),
        ...duplicates(g.outputs, (o) => `\`${o.name}\``, "output"),
        ...g.nodes
          .filter((n) => inputNames.has(n.id))
          .map((n) => at(n, VERIFY_CODES.duplicate, "this id is already taken by a graph input", "rename the node")),
      ];
    },
  },
  {
    name: "input-types",
    check: ({ g }) =>
      g.inputs.flatMap((i) => {
        const t = i.type;
        const ok = t.kind === "bags" ? isSize(t.count, LIMITS.count) : t.shape.every((d, k) => (k === 0 && d === BATCH) || isSize(d));
        return ok
          ? []
          : [
              error(
                VERIFY_CODES.badInput,
                `input %${i.name} has an invalid type ${formatType(t)}: sizes must be positive integers up to ${LIMITS.size}, bag counts up to ${LIMITS.count} (B only first)`,
                i.span,
              ),
            ];
      }),
  },
  {
    name: "weight-decls",
    check: ({ g }) =>
      g.weights.flatMap((w) => {
        const out: Diagnostic[] = [];
        if (!w.shape.every((d) => isSize(d)))
          out.push(
            error(
              VERIFY_CODES.badWeight,
              `weight @${w.name} has shape [${w.shape.map(printNumber).join(",")}]; sizes must be positive integers up to ${LIMITS.size}`,
              w.span,
            ),
          );
        const pin = w.attrs.precision;
        if (pin !== undefined) {
          const msg = checkAttr("precision", COMMON_ATTRS.precision!, pin);
          if (msg) out.push(error(VERIFY_CODES.invalidAttr, `weight @${w.name}: ${msg}`, w.span));
          // bf16 has no row format: the front end refuses it on tables, and so does the IR (docs/numerics.md).
          else if (w.role === "table" && pin === "bf16")
            out.push(
              error(
                VERIFY_CODES.invalidAttr,
                `table @${w.name}: precision bf16 is for dense layers; tables take fp32, fp16, int8, int4 or int2`,
                w.span,
              ),
            );
        }
        const placement = w.attrs.placement;
        if (placement !== undefined && (w.role !== "table" || (placement !== "file" && placement !== "redis")))
          out.push(
            error(
              VERIFY_CODES.invalidAttr,
              `weight @${w.name}: attribute placement must be file or redis on a table (absent: in memory), got ${JSON.stringify(placement)}${w.role !== "table" ? ` on a ${w.role}` : ""}`,
              w.span,
            ),
          );
        const ids = w.attrs.ids;
        if (ids !== undefined && (w.role !== "table" || !(ID_POLICIES as readonly unknown[]).includes(ids)))
          out.push(
            error(
              VERIFY_CODES.invalidAttr,
              `weight @${w.name}: attribute ids must be one of ${ID_POLICIES.join(", ")} on a table, got ${JSON.stringify(ids)}${w.role !== "table" ? ` on a ${w.role}` : ""}`,
              w.span,
            ),
          );
        return out;
      }),
  },
  {
    name: "acyclic",
    check: ({ g, cycles }) => {
      const byId = new Map(g.nodes.map((n) => [n.id, n] as const));
      return cycles.map((cycle) => {
        const head = byId.get(cycle[0]!)!;
        const names = cycle.map((id) => `%${id}`).join(", ");
        return error(
          VERIFY_CODES.cycle,
          cycle.length === 1 ? `%${head.id} reads its own result (a cycle)` : `values ${names} depend on each other (a cycle)`,
          head.span,
        );
      });
    },
  },
  {
    name: "outputs",
    check: ({ g, defIndex }) =>
      g.outputs.flatMap((o) => {
        if (defIndex.has(o.value)) return [];
        const hint = o.value.startsWith("%") ? "Output.value holds a bare id, without `%`" : didYouMean(o.value, defIndex.keys());
        return [error(VERIFY_CODES.badOutput, `output \`${o.name}\` is bound to %${o.value}, which is not defined`, o.span, hint)];
      }),
  },
];

const NODE_RULES: NodeRule[] = [
  {
    name: "known-op",
    check: (n) =>
      opDef(n.op) ? [] : [at(n, VERIFY_CODES.unknownOp, `unknown op \`${n.op}\``, didYouMean(n.op, OP_NAMES) ?? `known ops: ${OP_NAMES.join(", ")}`)],
  },
  {
    name: "operand-form",
    check: (n) => {
      const bad = n.inputs.filter((r) => !isValueRef(r) && !isWeightRef(r));
      // The first value after a weight; one pass, as a node may have thousands of operands.
      const firstWeight = n.inputs.findIndex(isWeightRef);
      const misplaced = firstWeight < 0 ? -1 : n.inputs.findIndex((r, i) => i > firstWeight && isValueRef(r));
      return [
        ...bad.map((r) => at(n, VERIFY_CODES.badOperand, `operand ${JSON.stringify(r)} is neither a value (%id) nor a weight (@name)`)),
        ...(misplaced >= 0
          ? [at(n, VERIFY_CODES.operandOrder, `value operand ${n.inputs[misplaced]} comes after a weight operand; values go first`)]
          : []),
      ];
    },
  },
  {
    name: "operand-counts",
    check: (n) => {
      const def = opDef(n.op);
      if (!def) return [];
      const values = n.inputs.filter(isValueRef).length;
      const weights = n.inputs.filter(isWeightRef).length;
      return [...countProblem(n, def.values, values, "value"), ...countProblem(n, def.weights, weights, "weight")];
    },
  },
  {
    name: "values-defined",
    check: (n, index, { defIndex, inCycle }) =>
      n.inputs.filter(isValueRef).flatMap((ref) => {
        const def = defIndex.get(refName(ref));
        if (def === undefined) return [at(n, VERIFY_CODES.undefinedValue, `${ref} is not defined`, didYouMean(refName(ref), defIndex.keys()))];
        if (def < index) return [];
        // Cycles are reported once per cycle by the graph rule; still mark the node as broken.
        if (inCycle.has(n.id) && inCycle.has(refName(ref))) return [at(n, VERIFY_CODES.cycle, `reads ${ref}, which depends on it`)];
        return [at(n, VERIFY_CODES.useBeforeDef, `reads ${ref} before it is defined`, "nodes must come after the values they read")];
      }),
  },
  {
    name: "weights-declared",
    check: (n, _i, { weightNames }) =>
      n.inputs
        .filter((r) => isWeightRef(r) && !weightNames.has(refName(r)))
        .map((ref) => at(n, VERIFY_CODES.undefinedWeight, `weight ${ref} is not declared`, didYouMean(refName(ref), weightNames))),
  },
  {
    name: "attrs",
    check: (n) => {
      const def = opDef(n.op);
      return def ? attrProblems(n, def) : [];
    },
  },
  {
    name: "type",
    needsWellFormed: true,
    check: (n, _i, { env, opts, broken }) => {
      if (n.inputs.some((r) => isValueRef(r) && broken.has(refName(r)))) return [];
      if (n.type === null)
        return opts.allowUntyped
          ? []
          : [
              at(
                n,
                VERIFY_CODES.missingType,
                "missing type; run infer-shapes",
                "add infer-shapes to the pipeline after the pass that built this node",
              ),
            ];
      const r = inferNodeType(n, env);
      if (!r) return [];
      if (!r.ok) return [at(n, VERIFY_CODES.typeError, r.message, r.hint)];
      return typesEqual(r.type, n.type)
        ? []
        : [at(n, VERIFY_CODES.typeMismatch, `stored type ${describeType(n.type)} but ${n.op} gives ${formatType(r.type)}`, "run infer-shapes")];
    },
  },
];

const describeType = (t: Type): string => (t && (t.kind === "tensor" || t.kind === "bags") ? formatType(t) : JSON.stringify(t));

function countProblem(n: Node, [min, max]: [number, number], got: number, what: string): Diagnostic[] {
  if (got >= min && got <= max) return [];
  const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  return [at(n, VERIFY_CODES.operandCount, `${n.op} takes ${want} ${what} operand${want === "1" ? "" : "s"}, got ${got}`)];
}

function attrProblems(n: Node, def: OpDef): Diagnostic[] {
  const specs = { ...def.attrs, ...COMMON_ATTRS };
  const out: Diagnostic[] = [];
  for (const [k, v] of Object.entries(n.attrs)) {
    // Own keys only: an attribute spelled `constructor` or `toString` must not find Object.prototype's.
    const spec = Object.hasOwn(specs, k) ? specs[k] : undefined;
    if (!spec) {
      out.push(
        at(
          n,
          VERIFY_CODES.unknownAttr,
          `${n.op} has no attribute \`${k}\``,
          didYouMean(k, Object.keys(specs)) ?? `its attributes: ${Object.keys(specs).join(", ")}`,
        ),
      );
      continue;
    }
    const msg = checkAttr(k, spec, v);
    if (msg) out.push(at(n, VERIFY_CODES.invalidAttr, msg));
  }
  for (const [k, spec] of Object.entries(def.attrs))
    if (spec.required && n.attrs[k] === undefined) out.push(at(n, VERIFY_CODES.missingAttr, `${n.op} needs attribute \`${k}\` (${spec.doc})`));
  return out;
}

function buildScope(g: Graph, opts: VerifyOptions): Scope {
  const defIndex = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    if (!defIndex.has(n.id)) defIndex.set(n.id, i);
  });
  for (const i of g.inputs) defIndex.set(i.name, -1);
  const cycles = findCycles(g);
  return {
    g,
    opts,
    defIndex,
    weightNames: new Set(g.weights.map((w) => w.name)),
    cycles,
    inCycle: new Set(cycles.flat()),
    broken: new Set(),
    env: graphTypeEnv(g),
  };
}

/** Checks every rule; returns all problems found (empty for a valid graph). */
export function verifyGraph(g: Graph, opts: VerifyOptions = {}): Diagnostic[] {
  const scope = buildScope(g, opts);
  const out: Diagnostic[] = GRAPH_RULES.flatMap((r) => r.check(scope));
  g.nodes.forEach((n, i) => {
    let clean = true;
    for (const rule of NODE_RULES) {
      if (rule.needsWellFormed && !clean) continue;
      const found = rule.check(n, i, scope);
      if (found.length > 0) clean = false;
      out.push(...found);
    }
    if (!clean) scope.broken.add(n.id);
  });
  return out;
}

/** Names of the verifier's rules, in the order they run (for docs and tests). */
export const VERIFY_RULES: readonly string[] = [...GRAPH_RULES, ...NODE_RULES].map((r) => r.name);
