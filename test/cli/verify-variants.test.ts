// `rmc verify` per code variant on the machine's Node 20, where relaxed SIMD
// does not validate: the SIMD128 code runs, the interpreter's fma mode stands
// in for the relaxed variant (verify-variants.shared.ts).

import { verifyVariantsSuite } from "./verify-variants.shared.js";

verifyVariantsSuite(false);
