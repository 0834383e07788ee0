// Front end: names for the diagnostic codes the .rmdl front end reports, one
// per kind of mistake (what each means is in src/diagnostics/codes.ts).
// E01xx: characters and syntax; E02xx: names (and W021x, unused names);
// E03xx: arguments; E04xx: shapes, tables and bags; E05xx: precision pins;
// E06xx: model structure. (E07xx and up belong to later stages.)

import type { Code } from "../diagnostics/index.js";

/** Diagnostic codes of the front end, by kind of mistake. */
export const CODES = {
  unexpectedChar: "E0101",
  syntax: "E0102",
  tooDeep: "E0103",
  tooLong: "E0104",
  tooMany: "E0105",
  undefinedName: "E0201",
  duplicateDefinition: "E0202",
  unknownOp: "E0203",
  unknownType: "E0204",
  unknownAnnotation: "E0205",
  usedBeforeDefined: "E0206",
  unknownKeyword: "E0301",
  missingArgument: "E0302",
  tooManyPositional: "E0303",
  tooFewPositional: "E0304",
  duplicateArgument: "E0305",
  wrongKind: "E0306",
  badEnum: "E0307",
  notPositive: "E0308",
  tableAsValue: "E0309",
  valueAsTable: "E0310",
  bagsAsValue: "E0311",
  valueAsBags: "E0312",
  tooLarge: "E0313",
  shapeMismatch: "E0401",
  countMismatch: "E0402",
  indexOutOfRange: "E0403",
  rowsLength: "E0404",
  unknownPrecision: "E0501",
  misplacedPin: "E0502",
  pinConflict: "E0503",
  noOutputs: "E0601",
  duplicateOutput: "E0602",
  manyModels: "E0603",
  noModel: "E0604",
  unusedInput: "W0210",
  unusedValue: "W0211",
  unusedTable: "W0212",
} as const satisfies Record<string, Code>;
