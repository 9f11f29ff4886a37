import "server-only";

/**
 * A small JSON parser that remembers lines, so that a scenario's index.json errors can say
 * `index.json:12: ...` for the offending key. JSON.parse gives values but no positions.
 */

export type JsonNode =
  | { kind: "object"; line: number; entries: Map<string, JsonEntry> }
  | { kind: "array"; line: number; items: JsonNode[] }
  | { kind: "scalar"; line: number; value: string | number | boolean | null };

export interface JsonEntry {
  keyLine: number;
  node: JsonNode;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export function parseJsonWithLines(text: string): JsonNode {
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, line);
  };
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) if (text[i++] === "\n") line++;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\n") fail("a string may not span lines");
      i += text[i] === "\\" ? 2 : 1;
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("invalid escape in a string");
    }
  };
  const value = (depth: number): JsonNode => {
    if (depth > 64) fail("nested too deeply");
    ws();
    const at = line;
    const c = text[i];
    if (c === "{") {
      i++;
      const entries = new Map<string, JsonEntry>();
      ws();
      if (text[i] === "}") return i++, { kind: "object", line: at, entries };
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a "key" here, found ${show(text[i])}`);
        const keyLine = line;
        const key = string();
        if (entries.has(key)) fail(`the key "${key}" appears twice`);
        ws();
        if (text[i++] !== ":") fail(`expected ":" after "${key}"`);
        entries.set(key, { keyLine, node: value(depth + 1) });
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return i++, { kind: "object", line: at, entries };
        else fail(`expected "," or "}" here, found ${show(text[i])}`);
      }
    }
    if (c === "[") {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === "]") return i++, { kind: "array", line: at, items };
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return i++, { kind: "array", line: at, items };
        else fail(`expected "," or "]" here, found ${show(text[i])}`);
      }
    }
    if (c === '"') return { kind: "scalar", line: at, value: string() };
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) return fail(`unexpected ${show(c)}`);
    i += m[0].length;
    return { kind: "scalar", line: at, value: JSON.parse(m[0]) as string | number | boolean | null };
  };
  const root = value(0);
  ws();
  if (i < text.length) fail(`unexpected ${show(text[i])} after the end of the JSON value`);
  return root;
}

function show(c: string | undefined): string {
  return c === undefined ? "the end of the file" : JSON.stringify(c);
}

/** The plain JavaScript value of a node (for numbers, strings, lists of strings). */
export function toValue(n: JsonNode): unknown {
  if (n.kind === "scalar") return n.value;
  if (n.kind === "array") return n.items.map(toValue);
  return Object.fromEntries([...n.entries].map(([k, e]) => [k, toValue(e.node)]));
}
