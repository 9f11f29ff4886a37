import type { ExploreTarget } from "@/lib/lessons";
import type { LabSnapshot } from "@/lib/protocol";

/**
 * Where the things a lesson step points at are drawn, as CSS selectors over the views' data
 * attributes (data-pid-host, data-ns-type/-ino, data-mount-id, data-propagation, data-peer-group),
 * so that the views need to know nothing about lessons. Processes come by their PID in the lab and
 * are found in the snapshot by NSpid.
 */
export function focusSelectors(targets: ExploreTarget[], snap: LabSnapshot, tab: string): { css: string; test?: (el: HTMLElement) => boolean }[] {
  const out: { css: string; test?: (el: HTMLElement) => boolean }[] = [];
  const hostOf = (pid: number) => snap.processes.find((p) => p.nspid[1] === pid)?.hostPid;
  for (const t of targets) {
    if (t.kind === "pid") {
      const h = hostOf(t.pid);
      if (h !== undefined) out.push({ css: `tr[data-pid-host="${h}"], span[data-pid-host="${h}"]` });
    } else if (t.kind === "ns") {
      if (tab === "processes") {
        // the namespace's chip in each member's row, and the rows of its members
        out.push({ css: `[data-ns-type="${t.type}"][data-ns-ino="${t.ino}"]` });
        for (const p of snap.processes) if (p.ns[t.type] === t.ino) out.push({ css: `tr[data-pid-host="${p.hostPid}"]` });
      } else out.push({ css: `[data-ns-type="${t.type}"][data-ns-ino="${t.ino}"]` });
    } else if (t.kind === "mount") out.push({ css: `tr[data-mount-id="${t.id}"]` });
    else if (t.kind === "peer") {
      const re = new RegExp(`(^| )(shared|master):${t.group}( |$)`);
      out.push({ css: "tr[data-propagation]", test: (el) => re.test(el.dataset.propagation ?? "") });
      out.push({ css: `[data-peer-group="${t.group}"]` });
    }
  }
  return out;
}
