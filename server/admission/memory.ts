import "server-only";
import fs from "node:fs";

/**
 * The host's MemAvailable (proc(5): an estimate of the memory available for new work without
 * swapping), in bytes, read at most every `cacheMs`. Infinity where the kernel has no such field,
 * so that admission never waits on memory it cannot measure.
 */
export function memAvailableReader(cacheMs = 500, file = "/proc/meminfo"): () => number {
  let at = 0;
  let value = Infinity;
  return () => {
    const now = Date.now();
    if (now - at < cacheMs) return value;
    at = now;
    try {
      const kb = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync(file, "latin1"))?.[1];
      value = kb ? Number(kb) * 1024 : Infinity;
    } catch {
      value = Infinity;
    }
    return value;
  };
}
