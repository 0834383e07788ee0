// The backend interface: what a code generator declares about its target
// (ops, precisions, limits — the splitting and precision passes read these)
// and how it turns a final IR plus weights into an artifact folder. Backends
// are looked up by name in a registry that plugins can add to.

import { RmcError, didYouMean } from "../src/diagnostics.js";
import type { Graph } from "../src/ir/types.js";
import type { WeightStore } from "../src/weights/store.js";

/** Hard limits of a target. */
export interface BackendLimits {
  /** Largest addressable memory for weights plus working buffers, in bytes. */
  maxMemoryBytes: number;
  /** Largest single buffer (one table, one weight), in bytes. */
  maxBufferBytes: number;
}

export interface CompileOptions {
  /** Folder to write; replaced as a whole only when compilation succeeds. */
  outDir: string;
  /** Also write human-readable forms (model.wat, final.ir). */
  emitText: boolean;
  /** Optional target features a backend offers (`--features`). */
  features: string[];
  compilerVersion: string;
  /** Extra records for the manifest (e.g. the precision plan, so `rmc verify` can reapply it). */
  manifestExtras?: Record<string, unknown>;
}

/** What a compile produced, for the CLI's report. */
export interface CompileResult {
  files: { name: string; bytes: number }[];
  /** Per-sample bytes of planned activation memory. */
  activationBytesPerSample: number;
  weightsBytes: number;
}

export interface Backend {
  name: string;
  summary: string;
  /** IR ops it compiles (others must be rewritten by passes first). */
  ops: readonly string[];
  /** Precisions it implements for tables and for layers. */
  precisions: { tables: readonly string[]; layers: readonly string[] };
  limits: BackendLimits;
  /** Features that may be requested with `--features`. */
  features: readonly string[];
  /**
   * Passes `rmc compile` appends for this target after the user's pipeline
   * (and after assign-precision), as pipeline text: the fusions whose fused
   * forms the target runs, and its memory plan. Absent: none (a fusion a
   * backend does not declare is never applied for it).
   */
  passes?: string;
  compile(graph: Graph, weights: WeightStore, opts: CompileOptions): Promise<CompileResult>;
}

/** Backends by name: the built-ins plus any a plugin registers. */
export class BackendRegistry {
  private readonly byName = new Map<string, Backend>();
  register(b: Backend): void {
    if (this.byName.has(b.name)) throw new RmcError(`a backend named \`${b.name}\` is already registered`, "E1804");
    this.byName.set(b.name, b);
  }
  get(name: string): Backend {
    const b = this.byName.get(name);
    if (!b) {
      const hint = didYouMean(name, this.byName.keys());
      throw new RmcError(`unknown target \`${name}\`${hint ? `: ${hint}` : ""} (targets: ${[...this.byName.keys()].join(", ")})`, "E1805");
    }
    return b;
  }
  names(): string[] {
    return [...this.byName.keys()];
  }
}
