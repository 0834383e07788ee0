// Diagnostics: what every stage imports to report a problem — the Diagnostic
// shape, RmcError and the formatters (diagnostic.ts), and the table of codes
// with what each means (codes.ts). The folder imports nothing else of rmc's,
// so any stage (the runtime included) can use it.

export * from "./diagnostic.js";
export * from "./codes.js";
