/**
 * User Timing marks on the way to a lesson's first prompt ("nslab:<what>"): what bench/page
 * prints as its breakdown, and what a developer sees in the browser's performance panel. Each is
 * set once per page (the first time), so a reconnect or a second terminal does not move it.
 */
const seen = new Set<string>();

export function mark(what: string): void {
  if (seen.has(what) || typeof performance === "undefined" || typeof performance.mark !== "function") return;
  seen.add(what);
  performance.mark(`nslab:${what}`);
}
