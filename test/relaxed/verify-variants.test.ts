// `rmc verify` per code variant under Node 24 (`npm run test:relaxed`), where
// both variants run for real (test/cli/verify-variants.shared.ts).

import { verifyVariantsSuite } from "../cli/verify-variants.shared.js";

verifyVariantsSuite(true);
