// A real Redis Cluster on loopback for the Redis store's tests and bench:store (no mocks): six
// redis-server processes, three masters and three replicas, on free ports in
// a temp folder, joined by `redis-cli --cluster create`. The processes are
// the test run's own: stop() kills them, a process-exit hook kills them if a
// test file dies before its afterAll, and a watchdog shell kills them if the
// test process itself is killed (SIGKILL runs no hook). Needs redis-server
// and redis-cli on PATH (Debian's redis-server package; .ci/run installs it;
// RMC_SKIP_REDIS=1 skips the tests on a developer machine without it).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCluster {
  /** Every node's `127.0.0.1:port`, masters first as created. */
  nodes: string[];
  /** The ports of the nodes that are masters now. */
  masters(): number[];
  /** Kills the i-th current master (SIGKILL, as a crash) and returns its port. */
  killMaster(i: number): number;
  /** Waits until every live node reports cluster_state:ok and every live replica's link to its master is up (after a failover too). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Runs redis-cli against one node; its stdout. */
  cli(port: number, ...args: string[]): string;
  /** Feeds commands, one a line, to `redis-cli -c` (following redirections) on one connection, so a WAIT after a write waits for that write; its stdout. */
  script(port: number, commands: string): string;
  stop(): void;
}

/** Is `port` free on loopback? Bound and released at once. */
const free = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

/** A port the OS hands out (bind to 0), whose cluster bus port (+10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port + 10000 < 65536 && !taken.has(port) && !taken.has(port + 10000) && (await free(port + 10000))) {
      taken.add(port).add(port + 10000);
      return port;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the cluster and waits until every node serves every slot. */
export async function startCluster(): Promise<TestCluster> {
  for (const tool of ["redis-server", "redis-cli"])
    if (spawnSync(tool, ["--version"]).error)
      throw new Error(
        `no ${tool} on PATH: install Debian's redis-server as .ci/run does, or set RMC_SKIP_REDIS=1 on a developer machine to skip the Redis tests`,
      );
  const dir = mkdtempSync(join(tmpdir(), "rmc-redis-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort(taken));
  const procs = new Map<number, ChildProcess>();
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  let spawnError: Error | undefined;
  const killAll = () => {
    if (stopped) return;
    stopped = true;
    for (const p of procs.values()) if (p.exitCode === null) p.kill("SIGKILL");
    watchdog?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killAll);
  const cli = (port: number, ...args: string[]): string => {
    const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { encoding: "utf8", timeout: 10_000 });
    if (r.error) throw r.error;
    return r.stdout;
  };
  try {
    for (const port of ports) {
      const args = ["--port", String(port), "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`)];
      args.push("--cluster-node-timeout", "2000", "--appendonly", "no", "--save", "", "--bind", "127.0.0.1", "--dir", dir);
      // No 5 s wait before a replica's first sync (the default, to batch replicas): replicas are linked at once.
      args.push("--repl-diskless-sync-delay", "0");
      const p = spawn("redis-server", args, { stdio: "ignore" });
      p.on("error", (e) => (spawnError ??= e));
      procs.set(port, p);
    }
    const pids = [...procs.values()].map((p) => p.pid).join(" ");
    watchdog = spawn("sh", ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pids} 2>/dev/null; rm -rf "${dir}"`], {
      stdio: "ignore",
      detached: true,
    });
    watchdog.unref();
    for (const port of ports) {
      const t0 = Date.now();
      while (!cli(port, "ping").includes("PONG")) {
        if (spawnError)
          throw new Error(
            `redis-server could not start (${spawnError.message}): install Debian's redis-server as .ci/run does, or set RMC_SKIP_REDIS=1 on a developer machine to skip the Redis tests`,
          );
        if (Date.now() - t0 > 10_000) throw new Error(`redis-server on port ${port} did not answer PING`);
        await sleep(50);
      }
    }
    const create = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
  } catch (e) {
    killAll();
    throw e;
  }

  const live = () => ports.filter((p) => procs.get(p)!.exitCode === null && !procs.get(p)!.killed);
  const role = (port: number) => /^role:(\w+)/m.exec(cli(port, "info", "replication"))?.[1];
  const cluster: TestCluster = {
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    masters: () => live().filter((p) => role(p) === "master"),
    killMaster(i) {
      const port = cluster.masters()[i];
      if (port === undefined) throw new Error(`no master #${i}`);
      procs.get(port)!.kill("SIGKILL");
      return port;
    },
    async waitHealthy(timeoutMs = 30_000) {
      const t0 = Date.now();
      for (;;) {
        const nodes = live();
        const ok = nodes.every((p) => cli(p, "cluster", "info").includes("cluster_state:ok"));
        // Every master that owns slots has a replica whose link is up, so replica reads see the data.
        const linked =
          ok &&
          nodes.every((p) => !/^role:slave/m.test(cli(p, "info", "replication")) || /master_link_status:up/.test(cli(p, "info", "replication")));
        if (ok && linked) return;
        if (Date.now() - t0 > timeoutMs) throw new Error("the test Redis Cluster did not become healthy");
        await sleep(100);
      }
    },
    cli,
    script(port, commands) {
      const r = spawnSync("redis-cli", ["-c", "-h", "127.0.0.1", "-p", String(port)], { input: commands, encoding: "utf8", timeout: 10_000 });
      if (r.error) throw r.error;
      return r.stdout;
    },
    stop() {
      process.removeListener("exit", killAll);
      killAll();
    },
  };
  try {
    await cluster.waitHealthy();
  } catch (e) {
    cluster.stop();
    throw e;
  }
  return cluster;
}
