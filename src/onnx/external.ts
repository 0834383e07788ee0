// ONNX external data: a model whose weights do not fit one protobuf message
// (2 GiB) keeps its large initializers in a side file, as ONNX specifies
// (TensorProto.data_location = EXTERNAL, external_data = location / offset /
// length, the location relative to the model file). `rmc export-onnx` moves
// them out past a size threshold (externalize); `rmc import-onnx` reads them
// back (resolveExternal) from beside the model, refusing a location that
// leaves its folder or bytes outside the file.

import { RmcError, error } from "../diagnostics/index.js";
import { ONNX_CODES, type ModelProto, type TensorProto, toNumber } from "./proto.js";

/** TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;
/** Initializers smaller than this stay in the model (onnx.save_model's default size_threshold). */
export const EXTERNAL_MIN_BYTES = 1024;

/** The model with every initializer of at least EXTERNAL_MIN_BYTES moved to `location`; the side file's bytes are `chunks`, in order. */
export function externalize(model: ModelProto, location: string): { model: ModelProto; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = (model.graph!.initializer ?? []).map((t): TensorProto => {
    const raw = t.rawData;
    if (!raw || raw.length < EXTERNAL_MIN_BYTES) return t;
    const entry = (key: string, value: string) => ({ key, value });
    const moved: TensorProto = {
      ...t,
      rawData: new Uint8Array(0),
      dataLocation: EXTERNAL,
      externalData: [entry("location", location), entry("offset", String(offset)), entry("length", String(raw.length))],
    };
    chunks.push(raw);
    offset += raw.length;
    return moved;
  });
  return { model: { ...model, graph: { ...model.graph, initializer } }, chunks };
}

/** Reads `length` bytes at `offset` of the side file `location`; throws an RmcError when it cannot. */
export type ExternalReader = (location: string, offset: number, length: number) => Uint8Array;

/** The model with every external initializer's bytes read back into raw_data. */
export function resolveExternal(model: ModelProto, file: string, read: ExternalReader | undefined): ModelProto {
  const inits = model.graph?.initializer ?? [];
  if (!inits.some((t) => t.dataLocation === EXTERNAL)) return model;
  const fail = (t: TensorProto, why: string) =>
    new RmcError(error(ONNX_CODES.badFile, `${file}: initializer \`${t.name}\` keeps its data outside the file, ${why}`));
  const initializer = inits.map((t): TensorProto => {
    if (t.dataLocation !== EXTERNAL) return t;
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
    const location = kv.get("location");
    const offset = Number(kv.get("offset") ?? "0");
    const length = kv.has("length") ? Number(kv.get("length")) : undefined;
    if (!location) throw fail(t, "but names no location");
    if (location.startsWith("/") || location.split(/[\\/]/).includes("..") || /^[A-Za-z]:/.test(location))
      throw fail(t, `in \`${location}\`, which is not a file beside the model (a relative path inside its folder)`);
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0)))
      throw fail(t, `at offset ${kv.get("offset")}, length ${kv.get("length")}, which are not byte counts`);
    if (length === undefined) throw fail(t, "without a length (rmc reads explicit lengths only)");
    if (!read) throw fail(t, `in \`${location}\`; import the file from disk so its data file can be read`);
    const count = (t.dims ?? []).map(toNumber).reduce((a, b) => a * b, 1);
    const raw = read(location, offset, length);
    const { externalData: _e, dataLocation: _d, ...rest } = t;
    return count === 0 ? rest : { ...rest, rawData: raw };
  });
  return { ...model, graph: { ...model.graph, initializer } };
}
