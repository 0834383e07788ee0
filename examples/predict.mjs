// Using a compiled artifact from a Node program: a few lines, the same in a
// browser (with `load(url)`). Run `npm run demo` first (it compiles
// out/demo/dist), then: node examples/predict.mjs [DIST]
import { load } from "rmc/runtime";

const model = await load(process.argv[2] ?? "out/demo/dist", { threads: 1 });
console.log("inputs:", model.inputs.map((i) => `${i.name} (${i.kind === "dense" ? `${i.width} floats` : `${i.count} bags`})`).join(", "));

// One sample as a plain object: 13 preprocessed dense features and one id list per bag feature.
const sample = { dense: Array.from({ length: 13 }, (_, i) => Math.log1p(i)), sparse: Array.from({ length: 26 }, (_, f) => [f % 3]) };
const { ctr } = await model.predict([sample, { ...sample, sparse: sample.sparse.map(() => []) }]);
console.log(
  "ctr:",
  Array.from(ctr)
    .map((p) => p.toFixed(4))
    .join(", "),
);
await model.close();
