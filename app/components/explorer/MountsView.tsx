import { useId, useRef, useState } from "react";
import type { LabSnapshot, MountEntry, ProcessInfo } from "@/lib/protocol";
import { groupSwatch, nsSwatch, shortIno } from "./model/colours";
import { diffMounts, groupsAcross, mountRows, mountsWithAncestors, peerLanes, propagationLabel, type GroupView, type LaneCell } from "./model/mounts";
import { processTree } from "./model/processes";
import type { Strings } from "./strings";
import { Empty, SW_BORDER, SW_CHIP, SW_SOLID, swStyle, TreeGuides, useRovingRows } from "./ui";

const LANE_REM = 1.1; // width of one connector lane

/**
 * Mount tables of one or two lab processes (pick them above), as trees, with propagation
 * badges. Peer groups have one colour everywhere; mounts of one group in a table are joined by a
 * line in the gutter (filled dot: a peer, ring: a slave); the legend lists each group's members
 * across both tables, so a mount that propagated from one namespace to another can be seen.
 */
export function MountsView({
  snap,
  mounts,
  truncated,
  pids,
  onPids,
  t,
}: {
  snap: LabSnapshot;
  mounts: Map<number, MountEntry[]>;
  /** processes whose table the server cut after its first mounts */
  truncated: ReadonlySet<number>;
  pids: number[];
  onPids(pids: number[]): void;
  t: Strings;
}) {
  const idA = useId();
  const idB = useId();
  const [only, setOnly] = useState(false);
  const procs = processTree(snap.processes).map((r) => r.item);
  const byPid = new Map(snap.processes.map((p) => [p.hostPid, p]));
  const [a, b] = pids;
  const tables = pids.map((pid) => mounts.get(pid));
  const label = (p: ProcessInfo | undefined, pid: number) => (p ? `${p.comm} (${t.lab} ${p.nspid[1] ?? "?"})` : `${t.host} ${pid}`);
  /** a peer group's peers or slaves: each mount point, after its process when two tables are shown */
  const members = (heading: string, list: GroupView["peers"]) => (
    <span>
      <span className="text-muted">{heading}: </span>
      {list.map((m, i) => (
        <span key={`${m.table}-${m.mount.id}`} className="font-mono">
          {i > 0 && ", "}
          {pids.length > 1 && <span className="text-subtle">{label(byPid.get(pids[m.table]!), pids[m.table]!)} </span>}
          {m.mount.mountPoint}
        </span>
      ))}
    </span>
  );
  const mntOf = (p: ProcessInfo) => {
    const n = snap.namespaces.find((x) => x.type === "mnt" && x.ino === p.ns.mnt);
    return n ? `mnt ${shortIno(n.ino)}${n.isLabRoot ? ` · ${t.labOwn}` : ""}` : "";
  };
  const option = (p: ProcessInfo) => (
    <option key={p.hostPid} value={p.hostPid}>
      {`${p.comm} — ${t.lab} ${p.nspid[1] ?? "?"} · ${mntOf(p)}`}
    </option>
  );
  const groups = groupsAcross(tables.map((x) => x ?? [])).filter((g) => g.peers.length + g.slaves.length > 0);

  return (
    <div className="flex flex-col gap-4 pb-4" data-testid="explorer-mounts">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 px-3 pt-3 text-[0.9333rem]">
        <label htmlFor={idA} className="flex items-center gap-2">
          <span className="text-muted">{t.mountsOf}</span>
          <select
            id={idA}
            className="h-8 max-w-[22rem] rounded-md border border-line-strong bg-surface px-2 text-fg"
            value={a ?? ""}
            onChange={(e) => onPids([Number(e.target.value), ...(b !== undefined && b !== Number(e.target.value) ? [b] : [])])}
            data-testid="mounts-pick"
          >
            {a !== undefined && !byPid.has(a) && <option value={a}>{label(undefined, a)}</option>}
            {procs.map(option)}
          </select>
        </label>
        <label htmlFor={idB} className="flex items-center gap-2">
          <span className="text-muted">{t.compareWith}</span>
          <select
            id={idB}
            className="h-8 max-w-[22rem] rounded-md border border-line-strong bg-surface px-2 text-fg"
            value={b ?? ""}
            onChange={(e) => onPids(e.target.value ? [a!, Number(e.target.value)] : a !== undefined ? [a] : [])}
            data-testid="mounts-compare"
          >
            <option value="">— {t.none} —</option>
            {procs.filter((p) => p.hostPid !== a).map(option)}
          </select>
        </label>
        <label className="flex items-center gap-1.5">
          <input type="checkbox" checked={only} onChange={(e) => setOnly(e.target.checked)} className="size-4 accent-[var(--c-accent)]" data-testid="mounts-only-propagating" />
          {t.onlyPropagating}
        </label>
      </div>

      <div className={`grid gap-4 px-3 ${pids.length > 1 ? "@min-[72rem]:grid-cols-2" : ""}`}>
        {pids.map((pid, i) => (
          <MountTable key={pid} pid={pid} mounts={tables[i]} truncated={truncated.has(pid)} only={only} title={label(byPid.get(pid), pid)} proc={byPid.get(pid)} snap={snap} t={t} />
        ))}
      </div>

      <section className="px-3" aria-labelledby={`${idA}-groups`} data-testid="mounts-groups">
        <h3 id={`${idA}-groups`} className="mb-1 text-[0.9333rem] font-semibold">
          {t.peerGroups}
        </h3>
        <p className="mb-2 max-w-prose text-[0.8667rem] text-muted">{t.peerHelp}</p>
        {groups.length === 0 ? (
          <p className="text-[0.9333rem] text-muted">{t.noGroups}</p>
        ) : (
          <ul className="flex flex-col gap-1.5">
            {groups.map((g) => (
              <li key={g.group} className="flex flex-wrap items-baseline gap-x-2 gap-y-1 text-[0.9333rem]" data-peer-group={g.group}>
                <GroupBadge group={g.group} text={`shared:${g.group}`} />
                {g.master !== null && <span className="font-mono text-[0.8667rem] text-muted">master:{g.master}</span>}
                {g.peers.length > 0 && members(t.peersLabel, g.peers)}
                {g.slaves.length > 0 && members(`· ${t.slavesLabel}`, g.slaves)}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function GroupBadge({ group, text, slave = false }: { group: number; text: string; slave?: boolean }) {
  return (
    <span
      className={`inline-flex items-center whitespace-nowrap rounded px-1.5 py-0.5 font-mono text-[0.8667rem] leading-5 ${slave ? `border-2 border-dashed bg-transparent ${SW_BORDER}` : SW_CHIP}`}
      style={swStyle(groupSwatch(group))}
    >
      {text}
    </span>
  );
}

function PropagationBadges({ m, t }: { m: MountEntry; t: Strings }) {
  const p = m.propagation;
  if (p.kind === "shared")
    return (
      <span className="flex flex-wrap gap-1">
        <GroupBadge group={p.peerGroup} text={`shared:${p.peerGroup}`} />
        {p.master !== undefined && <GroupBadge group={p.master} text={`master:${p.master}`} slave />}
      </span>
    );
  if (p.kind === "slave")
    return (
      <span className="flex flex-wrap gap-1">
        <GroupBadge group={p.master} text={`master:${p.master}`} slave />
        {p.propagateFrom !== undefined && <GroupBadge group={p.propagateFrom} text={`propagate_from:${p.propagateFrom}`} slave />}
      </span>
    );
  if (p.kind === "unbindable")
    return <span className="rounded border border-danger/50 px-1.5 py-0.5 font-mono text-[0.8667rem] text-danger">{t.unbindable}</span>;
  return <span className="font-mono text-[0.8667rem] text-subtle">{t.private}</span>;
}

/** A path that may wrap after its slashes (not inside a name). */
function PathText({ path }: { path: string }) {
  const parts = path.split(/(?<=\/)/);
  return (
    <>
      {parts.map((p, i) => (
        <span key={i}>
          {p}
          {i < parts.length - 1 && <wbr />}
        </span>
      ))}
    </>
  );
}

const NOTABLE = new Set(["ro", "noexec", "nosuid", "nodev"]);
/** ro or rw, then the restricting flags; the whole list is in the cell's title. */
function OptionFlags({ options }: { options: string }) {
  const opts = options.split(",");
  const shown = opts.filter((o) => o === "rw" || NOTABLE.has(o));
  return (
    <span className="flex flex-wrap gap-x-1.5">
      {shown.map((o) => (
        <span key={o} className={o === "ro" ? "font-semibold text-warning" : o === "rw" ? "text-fg" : "text-muted"}>
          {o}
        </span>
      ))}
    </span>
  );
}

function Lane({ c }: { c: LaneCell }) {
  const left = `${c.lane * LANE_REM + LANE_REM / 2}rem`;
  return (
    <span style={swStyle(groupSwatch(c.group))}>
      <span className={`absolute w-[3px] -translate-x-1/2 ${SW_SOLID}`} style={{ left, top: c.up ? 0 : "50%", bottom: c.down ? 0 : "50%" }} />
      {c.mark && (
        <span
          className={`absolute top-1/2 size-3 -translate-x-1/2 -translate-y-1/2 rounded-full ${c.mark === "peer" ? SW_SOLID : `border-[3px] bg-surface ${SW_BORDER}`}`}
          style={{ left, ...swStyle(groupSwatch(c.group)) }}
        />
      )}
    </span>
  );
}

function MountTable({
  pid,
  mounts,
  truncated,
  only,
  title,
  proc,
  snap,
  t,
}: {
  pid: number;
  mounts: MountEntry[] | undefined;
  truncated: boolean;
  only: boolean; title: string; proc: ProcessInfo | undefined; snap: LabSnapshot; t: Strings }) {
  const roving = useRovingRows<HTMLTableSectionElement>();
  // highlight mounts that appeared or changed since the previous table (they fade out by CSS)
  const prev = useRef<{ mounts: MountEntry[] | undefined; added: Set<number>; changed: Set<number> }>({ mounts: undefined, added: new Set(), changed: new Set() });
  if (mounts && mounts !== prev.current.mounts) {
    const d = diffMounts(prev.current.mounts, mounts);
    prev.current = { mounts, added: new Set(d.added), changed: new Set(d.changed) };
  }
  const mnt = proc ? snap.namespaces.find((n) => n.type === "mnt" && n.ino === proc.ns.mnt) : undefined;
  const header = (
    <div className="mb-1 flex flex-wrap items-center gap-2 text-[0.9333rem]">
      <span className="font-semibold">{title}</span>
      {mnt && (
        <span className={`rounded px-1.5 py-0.5 font-mono text-[0.8667rem] ${SW_CHIP}`} style={swStyle(nsSwatch(mnt))} data-ns-type="mnt" data-ns-ino={mnt.ino}>
          mnt {shortIno(mnt.ino)}
        </span>
      )}
      {truncated && mounts && (
        <p role="note" className="basis-full text-[0.8667rem] text-warning" data-testid="mounts-truncated">
          {t.mountsTruncated(mounts.length)}
        </p>
      )}
    </div>
  );
  if (!mounts)
    return (
      <div data-mounts-pid={pid}>
        {header}
        <Empty>{t.loading}</Empty>
      </div>
    );
  if (!mounts.length)
    return (
      <div data-mounts-pid={pid}>
        {header}
        <Empty>{t.noMounts}</Empty>
      </div>
    );
  const rows = mountRows(only ? mountsWithAncestors(mounts, (m) => m.propagation.kind !== "private") : mounts);
  if (!rows.length)
    return (
      <div data-mounts-pid={pid} data-testid="mount-table">
        {header}
        <p className="px-1 py-3 text-[0.9333rem] text-muted" data-testid="mounts-none-propagating">
          {t.noPropagating}
        </p>
      </div>
    );
  const lanes = peerLanes(rows);
  const gutter = lanes.count * LANE_REM;
  return (
    <div className="min-w-0" data-mounts-pid={pid} data-testid="mount-table">
      {header}
      <div className="overflow-x-auto rounded-md border border-line">
        <table className="w-full border-collapse text-left text-[0.9333rem]">
          <thead className="bg-surface-2 text-[0.8667rem] text-muted">
            <tr>
              {gutter > 0 && <th aria-hidden="true" style={{ width: `${gutter + 0.25}rem` }} />}
              <th scope="col" className="px-2 py-1.5 font-medium">
                {t.mountPoint}
              </th>
              <th scope="col" className="px-2 py-1.5 font-medium">
                {t.propagation}
              </th>
              <th scope="col" className="px-2 py-1.5 font-medium">
                {t.fs}
              </th>
              <th scope="col" className="px-2 py-1.5 font-medium">
                {t.options}
              </th>
            </tr>
          </thead>
          <tbody ref={roving.ref} onKeyDown={roving.onKeyDown} onFocus={roving.onFocus}>
            {rows.map(({ mount: m, lasts }, i) => {
              const cls = prev.current.added.has(m.id) ? "nsx-fresh" : prev.current.changed.has(m.id) ? "nsx-changed" : "";
              return (
                <tr
                  key={m.id}
                  data-row=""
                  tabIndex={-1}
                  className={`nsx-row border-t border-line/60 align-top hover:bg-surface-2 ${cls}`}
                  data-mount-id={m.id}
                  data-mount-point={m.mountPoint}
                  data-propagation={propagationLabel(m)}
                >
                  {gutter > 0 && (
                    <td aria-hidden="true" className="relative p-0" style={{ width: `${gutter + 0.25}rem` }}>
                      {lanes.rows[i]!.map((c) => (
                        <Lane key={c.group} c={c} />
                      ))}
                    </td>
                  )}
                  <th scope="row" className="px-2 py-1 font-normal">
                    <span className="flex items-baseline">
                      <TreeGuides lasts={lasts} />
                      <span className="font-mono font-semibold">
                        <PathText path={m.mountPoint} />
                      </span>
                    </span>
                  </th>
                  <td className="px-2 py-1">
                    <PropagationBadges m={m} t={t} />
                  </td>
                  <td className="px-2 py-1 font-mono text-[0.8667rem]">
                    <span className="flex flex-wrap gap-x-1.5">
                      <span className="text-fg">{m.fsType}</span>
                      <span className="text-muted">
                        <PathText path={m.source} />
                      </span>
                      {m.root !== "/" && (
                        <span className="text-subtle" title={m.root}>
                          [<PathText path={m.root} />]
                        </span>
                      )}
                    </span>
                  </td>
                  <td className="whitespace-nowrap px-2 py-1 font-mono text-[0.8667rem]" title={m.options}>
                    <OptionFlags options={m.options} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
