/**
 * bench/scale's servers: NSLAB_ROLE=agent or web from the environment, API and sockets only (no
 * pages: the benchmark measures the lab path, and needs no production build of the pages).
 */
import { loadConfig } from "../server/config.ts";
import { startServer } from "../server/server.ts";
import { startWeb } from "../server/web.ts";

const config = loadConfig();
const s = config.role === "web" ? await startWeb(config, { pages: false }) : await startServer(config, { pages: false });
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    void s.close().then(() => process.exit(0));
  });
