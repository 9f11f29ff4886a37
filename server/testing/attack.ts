import "server-only";
import fs from "node:fs";
import path from "node:path";
import type { Lab } from "../labs/lab.ts";
import { testConfig } from "./instance.ts";

/**
 * native/build/attack (native/test/attack.c): what a hostile learner runs, for the containment
 * tests and bench/attacks. Built by `make -C native sanitized` (so by `npm test`).
 */
export const ATTACK_BINARY = path.join(testConfig().nativeDir, "attack");

/** Copies the attack program into a lab as /root/attack (through the lab's own shell). */
export async function installAttack(lab: Lab): Promise<void> {
  if (!fs.existsSync(ATTACK_BINARY)) throw new Error(`${ATTACK_BINARY} is missing: run make -C native sanitized`);
  const b64 = fs.readFileSync(ATTACK_BINARY).toString("base64");
  const r = await lab.exec(`base64 -d > /root/attack <<'EOF'\n${b64}\nEOF\nchmod +x /root/attack`);
  if (r.code !== 0) throw new Error(`installing the attack program failed: ${r.stderr}`);
}

/** The program's `name=RESULT` lines as a record. */
export function attackResults(out: string): Record<string, string> {
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}
