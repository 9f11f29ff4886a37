/**
 * Checks Kubernetes manifests against the Kubernetes API's own schemas, two ways, both from the
 * npm package kubernetes-models (generated from the Kubernetes OpenAPI document):
 *  - its validators (ajv, compiled from the schemas): required fields, types, enums, formats such
 *    as quantities ("2Gi") and int-or-string ports;
 *  - its TypeScript types, through the TypeScript compiler: each object becomes an object literal
 *    typed as its kind, so a field the API does not have (`replica:`, `imagePullPolicy` in the
 *    wrong place) is an error, as `kubectl apply --validate=strict` or kubeconform -strict would
 *    say. The OpenAPI schemas allow unknown fields, so the validators alone would let a typo pass.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

export interface Manifest {
  file: string;
  /** 0-based position among the file's documents */
  index: number;
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | null;
  object: any;
}

/** Every object in the YAML files (multi-document, comments allowed); a YAML error throws. */
export function readManifests(files: string[]): Manifest[] {
  const out: Manifest[] = [];
  for (const file of files) {
    parseAllDocuments(fs.readFileSync(file, "utf8")).forEach((doc, index) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      const object = doc.toJS();
      if (object === null) return;
      out.push({
        file,
        index,
        apiVersion: String(object.apiVersion),
        kind: String(object.kind),
        name: String(object.metadata?.name),
        namespace: object.metadata?.namespace ?? null,
        object,
      });
    });
  }
  return out;
}

const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);

/** kubernetes-models' module for an apiVersion and kind (core "v1" has no group), or null */
function modelPath(apiVersion: string, kind: string): string | null {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]+$/.test(kind)) return null;
  const spec = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    require.resolve(spec);
    return spec;
  } catch {
    return null;
  }
}

/** The schema errors of each manifest ("file#index Kind/name: message"); none when all are valid. */
export function schemaErrors(manifests: Manifest[]): string[] {
  const errors: string[] = [];
  const at = (m: Manifest) => `${path.basename(m.file)}#${m.index} ${m.kind}/${m.name}`;
  const known: Manifest[] = [];
  for (const m of manifests) {
    const spec = modelPath(m.apiVersion, m.kind);
    if (!spec) {
      errors.push(`${at(m)}: no such kind in the Kubernetes API: ${m.apiVersion} ${m.kind}`);
      continue;
    }
    const Model = require(spec)[m.kind] as new (data: unknown) => { validate(): void };
    try {
      new Model(m.object).validate();
    } catch (e) {
      errors.push(`${at(m)}: ${(e as Error).message}`);
    }
    known.push(m);
  }
  errors.push(...typeErrors(known, at));
  return errors;
}

/** The TypeScript check: one virtual module with each manifest as a typed object literal. */
function typeErrors(manifests: Manifest[], at: (m: Manifest) => string): string[] {
  if (!manifests.length) return [];
  const file = path.join(here, "__manifests__.ts");
  const lines: string[] = [];
  const owner: { start: number; m: Manifest }[] = [];
  manifests.forEach((m, i) => {
    const type = `I${m.kind}`;
    lines.push(`import type { ${type} as T${i} } from "${modelPath(m.apiVersion, m.kind)}";`);
  });
  manifests.forEach((m, i) => {
    owner.push({ start: lines.length, m });
    lines.push(`export const m${i}: T${i} = ${JSON.stringify(m.object, null, 1)};`.split("\n").join("\n"));
  });
  const text = lines.join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const lineStarts: number[] = [];
  {
    let n = 0;
    for (const l of lines) {
      lineStarts.push(n);
      n += l.split("\n").length;
    }
  }
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return `kubernetes types: ${message}`;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    let which = owner[0]!;
    for (const o of owner) if (lineStarts[o.start]! <= line) which = o;
    return `${at(which.m)}: ${message.split("\n")[0]}`;
  });
}
