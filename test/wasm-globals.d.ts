// The one WebAssembly API the tests call directly (the project's lib setting
// has no WebAssembly types; the runtime declares its own in platform.ts).
declare namespace WebAssembly {
  function validate(bytes: Uint8Array): boolean;
}
