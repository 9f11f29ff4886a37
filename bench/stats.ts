/** Small statistics helpers shared by the benchmarks. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function summary(name: string, xs: number[], unit = "ms"): { p50: number; p99: number } {
  const p50 = percentile(xs, 50);
  const p99 = percentile(xs, 99);
  console.log(`${name.padEnd(44)} n=${String(xs.length).padStart(4)}  p50 ${p50.toFixed(2).padStart(8)} ${unit}  p99 ${p99.toFixed(2).padStart(8)} ${unit}`);
  return { p50, p99 };
}

export function ratio(name: string, a: number, b: number): void {
  console.log(`${name.padEnd(44)} ${(a / b).toFixed(2)}x`);
}

/** `--name N` from the command line: a positive whole number, or `def`. */
export function intOption(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive whole number`);
  return v;
}
