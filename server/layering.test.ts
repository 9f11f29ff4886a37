/**
 * The layering of server/ (docs/architecture.md, "Layers"), enforced: every import of every
 * module under server/ and lib/ is read (TypeScript's own import scanner, so dynamic import() and
 * `export … from` count too) and checked against the table below. A domain folder never imports
 * the adapter layer (http/) or the wiring; labs/ imports nothing of terminals/ or lessons/; lib/ is
 * pure. A new folder, or a new arrow between folders, is a decision: make it here and in the
 * picture in docs/architecture.md.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where a file belongs: "lib", a folder of server/ ("labs", "http", …), or "wiring" (server/*.ts). */
type Layer = string;

/**
 * Which layers each layer may import (itself always). Tests may import what their folder may,
 * plus testing/ (and through it the wiring).
 */
export const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  lib: [],
  // infrastructure
  config: ["lib"],
  native: ["lib", "config"],
  // domains: they know nothing of HTTP, of the wiring, or of each other beyond these arrows
  labs: ["lib", "config", "native"],
  terminals: ["lib", "config", "native", "labs"],
  inspect: ["lib", "native", "labs"],
  lessons: ["lib", "labs"],
  classes: ["lib", "labs", "terminals"],
  // running a server: who gets a lab and when (admission), who may (access), what it reports
  // (metrics, log); they take and return plain values and know nothing of labs or HTTP
  admission: ["lib"],
  access: ["lib", "admission"],
  metrics: ["lib"],
  log: ["lib"],
  // several machines (issue 15): which agent holds which lab, the agents' health and placement;
  // plain values, nothing of labs or HTTP
  cluster: ["lib"],
  // the one adapter layer
  http: ["lib", "config", "labs", "terminals", "inspect", "lessons", "classes", "access", "admission", "metrics", "log", "cluster"],
  // the host check (npm run doctor) and test support
  doctor: ["lib", "config", "native", "labs", "lessons"],
  testing: ["lib", "config", "native", "labs", "terminals", "inspect", "lessons", "classes", "http", "wiring", "access", "admission", "metrics", "log", "cluster"],
  // server.ts, services.ts, main.ts: they put everything together
  wiring: ["lib", "config", "native", "labs", "terminals", "inspect", "lessons", "classes", "http", "doctor", "access", "admission", "metrics", "log", "cluster"],
};

/** The rules the issue asked for by name: the table above must keep them (checked below). */
const DOMAINS = ["labs", "terminals", "inspect", "lessons", "classes"];

export function layerOf(rel: string): Layer | null {
  const parts = rel.split("/");
  if (parts[0] === "lib") return "lib";
  if (parts[0] !== "server") return null;
  if (parts.length === 2) return parts[1] === "config.ts" ? "config" : "wiring";
  return parts[1]!;
}

export interface Arrow {
  from: string; // repository-relative file
  to: string; // repository-relative file, or the bare specifier
  fromLayer: Layer;
  toLayer: Layer | null;
}

/** Every relative import of one file, resolved to the file it names. */
export function importsOf(rel: string, text = fs.readFileSync(path.join(repo, rel), "utf8")): Arrow[] {
  const info = ts.preProcessFile(text, true, true);
  const fromLayer = layerOf(rel)!;
  const out: Arrow[] = [];
  for (const f of info.importedFiles) {
    const spec = f.fileName;
    if (spec.startsWith(".")) {
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
      out.push({ from: rel, to, fromLayer, toLayer: layerOf(to) });
    } else if (spec.startsWith("@/")) {
      const to = spec.slice(2);
      out.push({ from: rel, to, fromLayer, toLayer: layerOf(to) });
    } else {
      out.push({ from: rel, to: spec, fromLayer, toLayer: null });
    }
  }
  return out;
}

/** What is wrong with one arrow, or null. */
export function violation(a: Arrow): string | null {
  const isTest = /\.test\.tsx?$/.test(a.from);
  if (a.fromLayer === "lib") {
    if (a.toLayer === null && !isTest) return `${a.from} imports ${a.to}: lib/ is shared with the browser and imports nothing but lib/`;
    if (a.toLayer !== null && a.toLayer !== "lib") return `${a.from} imports ${a.to}: lib/ imports nothing but lib/`;
    return null;
  }
  if (a.toLayer === null || a.toLayer === a.fromLayer) return null;
  const allowed = MAY_IMPORT[a.fromLayer];
  if (!allowed) return `${a.from}: server/${a.fromLayer}/ is a folder the layering table does not know; add it to MAY_IMPORT (server/layering.test.ts) and to docs/architecture.md`;
  if (allowed.includes(a.toLayer)) return null;
  if (isTest && (a.toLayer === "testing" || a.toLayer === "wiring")) return null;
  return `${a.from} imports ${a.to}: ${a.fromLayer === "wiring" ? "the wiring" : `server/${a.fromLayer}/`} may import ${allowed.join(", ")} only (server/layering.test.ts, docs/architecture.md)`;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(repo, d), { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === "fixtures" || e.name.startsWith(".")) continue;
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe("layering", () => {
  test("every import under server/ and lib/ follows the table", () => {
    const files = [...sources("server"), ...sources("lib")];
    assert.ok(files.length > 50, "the scan found the sources");
    const bad = files.flatMap((f) => importsOf(f)).map(violation).filter((v): v is string => v !== null);
    assert.deepEqual(bad, []);
  });

  test("the table keeps the issue's rules: no domain imports http/ or the wiring, labs/ neither terminals/ nor lessons/", () => {
    for (const d of DOMAINS) {
      assert.ok(MAY_IMPORT[d], d);
      assert.equal(MAY_IMPORT[d]!.includes("http"), false, `${d} -> http`);
      assert.equal(MAY_IMPORT[d]!.includes("wiring"), false, `${d} -> wiring`);
      assert.equal(MAY_IMPORT[d]!.includes("testing"), false, `${d} -> testing`);
    }
    assert.equal(MAY_IMPORT.labs!.includes("terminals"), false);
    assert.equal(MAY_IMPORT.labs!.includes("lessons"), false);
    assert.deepEqual(MAY_IMPORT.lib, []);
  });

  test("a bad import is caught, static or dynamic", () => {
    const check = (from: string, text: string) => importsOf(from, text).map(violation).filter(Boolean);
    assert.equal(check("server/lessons/x.ts", 'import { HttpError } from "../http/errors.ts";').length, 1, "domain -> http");
    assert.equal(check("server/labs/x.ts", 'const r = await import("../lessons/runner.ts");').length, 1, "labs -> lessons, dynamically");
    assert.equal(check("server/labs/x.ts", 'export { Terminal } from "../terminals/terminal.ts";').length, 1, "labs -> terminals, re-exported");
    assert.equal(check("server/inspect/x.ts", 'import type { LabManager } from "../labs/manager.ts";').length, 0, "inspect -> labs is allowed");
    assert.equal(check("lib/x.ts", 'import fs from "node:fs";').length, 1, "lib stays pure");
    assert.equal(check("server/newdomain/x.ts", 'import { Lab } from "../labs/lab.ts";').length, 1, "an unknown folder must be placed");
    assert.equal(check("server/labs/x.test.ts", 'import { testServer } from "../testing/harness.ts";').length, 0, "tests may use testing/");
    assert.equal(check("server/labs/x.ts", 'import { testServer } from "../testing/harness.ts";').length, 1, "code may not");
  });
});
