// `--weights-map map.json`: renames a weights file's tensors before binding,
// for state dicts laid out neither as rmc, facebookresearch/dlrm nor TorchRec
// name them. The map is a JSON object of glob patterns to names:
//
//   { "encoder.tables.*.weight": "emb.$1.weight", "head.**": "top.$1" }
//
// `*` matches within one dotted part (no `.`), `**` across parts; `$1`, `$2`, …
// in a name are what the pattern's wildcards matched, in order. The first
// pattern (in the file's order) that matches a whole tensor name renames it;
// names no pattern matches keep theirs. A renamed tensor then binds like any
// other: by DSL name, or by a PyTorch or TorchRec name.
//
// Codes: E1385 a map file that cannot be read or is malformed; W1386 a pattern
// that matches no tensor of the file.

import * as fs from "node:fs";
import { RmcError, error, type Diagnostic } from "../diagnostics/index.js";
import type { WeightSource } from "./torchrec.js";

/** One compiled rule: the pattern as written, its regular expression, and the name template. */
interface Rule {
  pattern: string;
  re: RegExp;
  target: string;
}

const escape = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

/** A glob pattern as an anchored regular expression, one capture group per wildcard. */
function compile(pattern: string): RegExp {
  const parts = pattern.split(/(\*\*|\*)/);
  return new RegExp(`^${parts.map((p) => (p === "**" ? "(.+?)" : p === "*" ? "([^.]+)" : escape(p))).join("")}$`);
}

/** Reads and checks a map file; every problem is an E1385 naming the file. */
export function readWeightsMap(path: string): Rule[] {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new RmcError(error("E1385", `${path}: cannot read the weights map (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RmcError(error("E1385", `${path}: the weights map is not valid JSON (${(e as Error).message})`));
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new RmcError(
      error(
        "E1385",
        `${path}: the weights map must be a JSON object of "pattern": "name" pairs`,
        undefined,
        'e.g. { "enc.tables.*.weight": "emb.$1.weight" }',
      ),
    );
  const problems: Diagnostic[] = [];
  const rules: Rule[] = [];
  for (const [pattern, target] of Object.entries(json)) {
    if (typeof target !== "string" || target === "") {
      problems.push(error("E1385", `${path}: the name for pattern \`${pattern}\` must be a non-empty string, got ${JSON.stringify(target)}`));
      continue;
    }
    const wildcards = (pattern.match(/\*\*|\*/g) ?? []).length;
    const refs = [...target.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    const bad = refs.find((r) => r < 1 || r > wildcards);
    if (bad !== undefined)
      problems.push(
        error("E1385", `${path}: \`${target}\` uses $${bad}, but pattern \`${pattern}\` has ${wildcards} wildcard${wildcards === 1 ? "" : "s"}`),
      );
    else rules.push({ pattern, re: compile(pattern), target });
  }
  if (problems.length) throw new RmcError(problems);
  return rules;
}

/** The source with its tensors renamed by `rules`; W1386 for patterns that matched nothing, E1385 if two tensors get one name. */
export function renameTensors(source: WeightSource, rules: Rule[], mapPath: string): { source: WeightSource; diagnostics: Diagnostic[] } {
  const used = new Set<string>();
  const renamed = new Map<string, string>();
  const problems: Diagnostic[] = [];
  for (const name of source.tensors.keys()) {
    let to = name;
    for (const r of rules) {
      const m = r.re.exec(name);
      if (!m) continue;
      used.add(r.pattern);
      to = r.target.replace(/\$(\d+)/g, (_, k: string) => m[Number(k)]!);
      break;
    }
    const clash = renamed.get(to);
    if (clash !== undefined) problems.push(error("E1385", `${mapPath}: tensors \`${clash}\` and \`${name}\` are both renamed to \`${to}\``));
    renamed.set(to, name);
  }
  if (problems.length) throw new RmcError(problems);
  const diagnostics: Diagnostic[] = rules
    .filter((r) => !used.has(r.pattern))
    .map((r) => ({ code: "W1386", severity: "warning", message: `${mapPath}: pattern \`${r.pattern}\` matches no tensor of ${source.path}` }));
  const tensors = new Map([...renamed].map(([to, from]) => [to, source.tensors.get(from)!]));
  return { source: { path: source.path, tensors, tensor: (name) => source.tensor(renamed.get(name) ?? name) }, diagnostics };
}
