// `npm run fuzz -- --cases N --seconds S [--seed X] [--only NAME]`: fuzzes
// every surface (bench/fuzz/surfaces.ts) for N cases or S seconds each and
// prints a markdown table of cases tried, accepted, clean errors, crashes,
// hangs and wrong answers, with the first failing inputs; exits 1 if any
// surface had a crash, a hang, a wrong answer or an error without a code.

import { failures, fuzz, table, type Tally } from "./fuzz/harness.js";
import { SURFACES } from "./fuzz/surfaces.js";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const cases = Number(flag("cases", "1000"));
const seconds = Number(flag("seconds", "60"));
const seed = Number(flag("seed", String(Date.now() % 1_000_000)));
const only = flag("only", "");
if (!(cases >= 1) || !(seconds > 0) || !Number.isInteger(seed)) {
  console.error("usage: npm run fuzz -- --cases N --seconds S [--seed X] [--only NAME]");
  process.exit(2);
}

console.log(`rmc fuzz: up to ${cases} cases or ${seconds} s per surface, seed ${seed}\n`);
const tallies: Tally[] = [];
for (const s of SURFACES.filter((s) => s.name.includes(only))) {
  const start = performance.now();
  const t = await fuzz(s, cases, seconds, seed);
  tallies.push(t);
  console.error(`${s.name}: ${t.tried} cases in ${((performance.now() - start) / 1000).toFixed(1)} s, ${failures(t)} failures`);
}
console.log(table(tallies));
for (const t of tallies)
  for (const f of t.failures) console.log(`\n${t.surface}: ${f.kind}: ${f.why.split("\n").slice(0, 6).join("\n")}\n  input: ${f.input}`);
process.exit(tallies.some((t) => failures(t) > 0) ? 1 : 0);
