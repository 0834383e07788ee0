// `rmc serve --watch DIR`: every folder of DIR that holds a manifest.json is
// served under the folder's name, and loaded again — as a new version,
// swapped in without downtime — when its manifest changes (rmc compile
// writes an artifact beside the old one and renames it into place, so a
// changed manifest means a whole new artifact). Polled once a second: the
// stat calls are cheap, and polling sees renames that fs.watch may miss.

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Repository } from "./models.js";

/** Loads what DIR holds now, then watches it; returns the function that stops watching. */
export async function watchModels(dir: string, repo: Repository, log: (line: string) => void): Promise<() => void> {
  const seen = new Map<string, string>();
  let busy = false;
  const scan = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const manifest = join(dir, name, "manifest.json");
        const st = await stat(manifest).catch(() => undefined);
        if (!st?.isFile()) continue;
        const mark = `${st.mtimeMs}:${st.size}:${st.ino}`;
        if (seen.get(name) === mark) continue;
        seen.set(name, mark);
        await repo
          .load(join(dir, name), name)
          .catch((e: unknown) =>
            log(JSON.stringify({ level: "warn", event: "load-failed", model: name, dir: join(dir, name), error: (e as Error).message })),
          );
      }
    } finally {
      busy = false;
    }
  };
  await scan();
  const timer = setInterval(() => void scan(), 1000);
  timer.unref();
  return () => clearInterval(timer);
}
