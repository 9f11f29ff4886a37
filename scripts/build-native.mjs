// Builds native/ (the C core) from source with the system C compiler.
// Runs at `npm install`; no binaries are downloaded.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cc = process.env.CC || "cc";
const probe = spawnSync(cc, ["--version"], { stdio: "ignore" });
if (probe.error || probe.status !== 0) {
  console.error(
    `nslab: no C compiler found (tried "${cc}").\n` +
      "  nslab builds its small C core from source at install time.\n" +
      "  Debian/Ubuntu: apt-get install build-essential   Fedora: dnf install gcc make\n" +
      "  Or set CC to your compiler and run `npm install` again.",
  );
  process.exit(1);
}
const make = spawnSync("make", ["-C", path.join(root, "native"), `CC=${cc}`], { stdio: "inherit" });
if (make.error) {
  console.error("nslab: `make` was not found; install it (Debian: apt-get install make).");
  process.exit(1);
}
process.exit(make.status ?? 1);
