import "server-only";

/**
 * Where `needle` (a string, or its bytes in a Buffer) is held in the object graph below `root`:
 * own properties (enumerable or not; TypeScript's `private` members are ordinary properties),
 * Map keys and values, Set members, array items. Returns the first path found, or null. For tests
 * that prove a secret is not kept (a lab's token). JavaScript's #private fields cannot be reached
 * this way: the server uses none (keep it so, or this proves less).
 */
export function findValue(root: unknown, needle: string, rootName = "root", maxNodes = 500_000): string | null {
  const bytes = Buffer.from(needle);
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[root, rootName]];
  let nodes = 0;
  while (stack.length) {
    const [v, where] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes(needle)) return where;
      continue;
    }
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (++nodes > maxNodes) throw new Error(`findValue: more than ${maxNodes} objects below ${rootName}; narrow the root`);
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
      if (Buffer.from(v.buffer, v.byteOffset, v.byteLength).includes(bytes)) return where;
      continue;
    }
    if (v instanceof Map) for (const [k, x] of v) stack.push([k, `${where}.<key>`], [x, `${where}.get(${String(k).slice(0, 40)})`]);
    if (v instanceof Set) for (const x of v) stack.push([x, `${where}.<member>`]);
    for (const k of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (d && "value" in d) stack.push([d.value, `${where}.${String(k)}`]);
    }
  }
  return null;
}
