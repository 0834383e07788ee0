// `rmc store push|check|drop DIST/ --redis redis://host:port[,…]`: the
// command-line face of src/store/push.ts, for an artifact whose store tables
// are placed in a Redis Cluster. push copies them in (the artifact is not
// readable from the cluster until it has), check reads every block back
// against the artifact's index (exit 1 listing the bad blocks, for CI, as
// `verify` does for "over budget"), drop takes one version out. Progress goes
// to stderr when it is a terminal; the summary line to stdout.

import { RmcError } from "../../diagnostics/index.js";
import { parseRedisUrl } from "../../store/cluster.js";
import { checkStore, dropStore, pushStore, type TransferProgress } from "../../store/push.js";
import type { Command } from "../command.js";
import { numberFlag, requireFlag } from "../args.js";
import { PLAN_FLAGS, planStore } from "./store-plan.js";

const ACTIONS = ["push", "check", "drop", "plan"] as const;

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A self-overwriting progress line (blocks, bytes, rate, ETA) on a terminal; nothing otherwise. */
function transferLine(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const start = Date.now();
  let last = 0;
  return {
    update(p: TransferProgress) {
      const now = Date.now();
      if (!stream.isTTY || (now - last < 100 && p.blocks < p.totalBlocks)) return;
      last = now;
      const rate = p.bytes / Math.max(1e-3, (now - start) / 1000);
      const eta = rate > 0 ? (p.totalBytes - p.bytes) / rate : 0;
      stream.write(
        `\r${label}: ${p.blocks.toLocaleString("en-US")}/${p.totalBlocks.toLocaleString("en-US")} blocks, ${mib(p.bytes)}/${mib(p.totalBytes)} (${mib(rate)}/s, ETA ${Math.ceil(eta)} s)   `,
      );
    },
    done() {
      if (stream.isTTY) stream.write("\r\x1b[K");
    },
  };
}

export const storeCmd: Command = {
  spec: {
    name: "store",
    usage:
      "rmc store push|check|drop DIST/ --redis redis://host:port[,host:port…]  |  rmc store plan MODEL.rmdl [--precision P] [--hosts N --host-memory M]",
    summary: "copy an artifact's Redis-placed embedding tables into a Redis Cluster, check them there, or drop them",
    details: [
      "push   copies every block (verified against the artifact's index) and then the version's meta key;",
      "       re-running it is safe. Versions of one model coexist: each has its own keys.",
      "check  reads every block back and compares its sha256 with the index; exit 1 listing missing",
      "       or corrupted blocks.",
      "drop   deletes the artifact's version (its meta key first, so it is never read half dropped).",
      "plan   the placement and capacity plan of a model's store (bytes per master, per request, fit on",
      "       hosts), from its shapes alone: no weights, no compile.",
    ].join("\n"),
    positionals: { min: 2, max: 2 },
    flags: {
      redis: { type: "string", value: "URL", doc: "the cluster: redis://host:port[,host:port…] (some of its nodes)" },
      timeout: { type: "string", value: "MS", doc: "longest one batch may wait on the cluster", default: "10000" },
      ...PLAN_FLAGS,
    },
  },
  async run(args, io) {
    const cmd = "store";
    const [action, dir] = args.positionals as [string, string];
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new RmcError(`rmc store: the action must be one of ${ACTIONS.join(", ")}, got \`${action}\`\nusage: ${storeCmd.spec.usage}`, "E0904");
    if (action === "plan") return planStore(dir, args, io);
    const nodes = parseRedisUrl(requireFlag(args, "redis", cmd));
    const opts = { timeoutMs: numberFlag(args, "timeout", cmd, { integer: true, min: 1 })! };
    if (action === "drop") {
      const r = await dropStore(dir, nodes, opts);
      io.out(`dropped store version ${r.version} from ${r.where}: ${r.keys} keys\n`);
      return 0;
    }
    const bar = transferLine(`store ${action}`);
    if (action === "push") {
      const r = await pushStore(dir, nodes, (p) => bar.update(p), opts).finally(() => bar.done());
      if (r.replicasBehind > 0)
        io.err(`rmc store: ${r.replicasBehind} replica(s) had not acknowledged every block yet; reads of a block a replica lacks go to its master\n`);
      const rate = r.bytes / Math.max(1e-3, r.ms / 1000);
      io.out(
        `pushed store version ${r.version} to ${r.where}: ${r.tables} table${r.tables > 1 ? "s" : ""}, ${r.blocks} blocks, ${mib(r.bytes)} in ${secs(r.ms)} (${mib(rate)}/s)\n`,
      );
      return 0;
    }
    const r = await checkStore(dir, nodes, (p) => bar.update(p), opts).finally(() => bar.done());
    const bad = [...r.missing.map((b) => ({ ...b, what: "missing" })), ...r.corrupt.map((b) => ({ ...b, what: "corrupted" }))];
    for (const b of bad) io.out(`${b.what}: table ${b.table} block ${b.block}\n`);
    if (r.meta !== "complete")
      io.out(
        `meta key of version ${r.version}: ${r.meta === "missing" ? "missing (the version is not pushed, or was dropped)" : "incomplete (a push did not finish)"}\n`,
      );
    const ok = bad.length === 0 && r.meta === "complete";
    io.out(
      `store version ${r.version} on ${r.where}: ${r.tables} table${r.tables > 1 ? "s" : ""}, ${r.blocks} blocks intact (${mib(r.bytes)})` +
        (ok
          ? "\n"
          : `, ${r.missing.length} missing, ${r.corrupt.length} corrupted${r.meta === "complete" ? "" : ", no complete meta key"}: run rmc store push\n`),
    );
    return ok ? 0 : 1;
  },
};
