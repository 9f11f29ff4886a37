import type { LabSnapshot, NamespaceInfo } from "@/lib/protocol";
import { withChanges, type ChangesView, type Shown } from "./model/changes";
import { nsSwatch, shortIno } from "./model/colours";
import { nsColumns, nsHierarchy, nsKey, type NsNode } from "./model/namespaces";
import { processTree } from "./model/processes";
import type { Strings } from "./strings";
import { changeClass, Empty, NsChip, nsTag, SectionTitle, SW_CHIP, SW_SOLID, swStyle, useRovingRows } from "./ui";

/**
 * Processes × namespaces: per type, one column per namespace a lab process is in, the same colour
 * for the same namespace wherever it appears. Below, the hierarchy of user and pid namespaces.
 */
export function NamespacesView({ snap, changes, t }: { snap: LabSnapshot; changes: ChangesView; t: Strings }) {
  const shown = withChanges(snap, changes);
  const groups = nsColumns(shown.namespaces);
  const rows = processTree(shown.processes);
  const roving = useRovingRows<HTMLTableSectionElement>();
  if (!rows.length) return <Empty>{t.waiting}</Empty>;
  const cols = groups.flatMap((g) => g.namespaces);
  return (
    <div className="flex flex-col gap-6 pb-4" data-testid="explorer-namespaces">
      {/* the legend wraps to the Explorer's width: as the table's caption it was as wide as the
          table, inside the box that scrolls sideways, and cut off at the right */}
      <div>
        <p id="nsx-legend" className="px-3 pb-2 pt-3 text-[0.8667rem] text-muted">
          {t.matrixCaption}
        </p>
        <div className="overflow-x-auto">
          <table aria-labelledby="nsx-legend" className="border-collapse text-left text-[0.9333rem]">
            <thead className="text-[0.8667rem]">
              <tr>
                <th scope="col" rowSpan={2} className="sticky left-0 z-10 whitespace-nowrap border-b border-line bg-surface px-3 py-1.5 align-bottom font-medium text-muted">
                  {t.process}
                </th>
                {groups.map((g) => (
                  <th key={g.type} scope="colgroup" colSpan={g.namespaces.length} className="whitespace-nowrap border-l border-line px-2 pt-1 text-center font-mono font-semibold text-fg" data-ns-type={g.type}>
                    {g.type}
                  </th>
                ))}
              </tr>
              <tr className="border-b border-line">
                {groups.flatMap((g) =>
                  g.namespaces.map((n, i) => (
                    <th
                      key={nsKey(n.type, n.ino)}
                      scope="col"
                      className={`whitespace-nowrap px-1 pb-1.5 pt-1 text-center font-normal ${i === 0 ? "border-l border-line" : ""} ${changeClass(n)}`}
                      data-ns-type={n.type}
                      data-ns-ino={n.ino}
                      data-gone={n.gone ? "" : undefined}
                      data-fresh={n.fresh ? "" : undefined}
                    >
                      <span className={`inline-block rounded px-1 font-mono text-[0.8667rem] leading-5 ${SW_CHIP}`} style={swStyle(nsSwatch(n))} title={t.nsLabel(n.type, n.ino, nsTag(n, t))} aria-hidden="true">
                        {shortIno(n.ino)}
                      </span>
                      <span className="sr-only">{t.nsLabel(n.type, n.ino, nsTag(n, t))}</span>
                    </th>
                  )),
                )}
              </tr>
            </thead>
            <tbody ref={roving.ref} onKeyDown={roving.onKeyDown} onFocus={roving.onFocus}>
              {rows.map(({ item: p, depth }) => (
                <tr
                  key={p.hostPid}
                  data-row=""
                  tabIndex={-1}
                  data-pid-host={p.hostPid}
                  data-nspid={p.nspid.join(" ")}
                  className={`nsx-row border-b border-line/60 hover:bg-surface-2 ${changeClass(p, changes.changedProcs.has(p.hostPid))}`}
                >
                  <th scope="row" className={`sticky left-0 z-10 whitespace-nowrap bg-surface px-3 py-1 text-left font-normal ${changeClass(p, changes.changedProcs.has(p.hostPid))}`}>
                    <span style={{ paddingLeft: `${depth * 0.9}rem` }} className="font-mono font-semibold">
                      {p.comm}
                    </span>
                    <span className="ml-2 font-mono text-[0.8667rem] text-muted">
                      {t.lab} {p.nspid[1] ?? "?"}
                    </span>
                  </th>
                  {cols.map((n, i) => {
                    const member = p.ns[n.type] === n.ino;
                    const firstOfType = i === 0 || cols[i - 1]!.type !== n.type;
                    return (
                      <td key={nsKey(n.type, n.ino)} className={`px-1 py-1 text-center ${firstOfType ? "border-l border-line" : ""}`} data-ns-type={n.type} data-ns-ino={n.ino} data-member={member ? "" : undefined}>
                        {member ? (
                          <span className={`mx-auto block h-5 w-full min-w-6 rounded ${SW_SOLID}`} style={swStyle(nsSwatch(n))} title={t.nsLabel(n.type, n.ino, nsTag(n, t))}>
                            <span className="sr-only">{t.member}</span>
                          </span>
                        ) : (
                          <span className="sr-only">{t.notMember}</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      <section aria-labelledby="nsx-hier" className="px-3">
        <h2 id="nsx-hier" className="sr-only">
          {t.hierarchy}
        </h2>
        <div className="grid gap-6 md:grid-cols-2">
          <Hierarchy title={t.userTree} nodes={nsHierarchy(shown.namespaces, "user")} t={t} snap={snap} testid="explorer-user-tree" />
          <Hierarchy title={t.pidTree} nodes={nsHierarchy(shown.namespaces, "pid")} t={t} snap={snap} testid="explorer-pid-tree" />
        </div>
      </section>
    </div>
  );
}

function Hierarchy({ title, nodes, t, snap, testid }: { title: string; nodes: NsNode<Shown<NamespaceInfo>>[]; t: Strings; snap: LabSnapshot; testid: string }) {
  return (
    <div data-testid={testid}>
      <SectionTitle>{title}</SectionTitle>
      <ul className="flex flex-col gap-1.5" role="list">
        {nodes.map(({ ns: n, depth, owns }) => {
          const ownerUid = n.type === "user" ? snap.userMaps.find((m) => m.ino === n.ino)?.ownerUid : undefined;
          return (
            <li
              key={nsKey(n.type, n.ino)}
              className={`rounded-md border-l-4 border-l-[color:var(--sw-solid)] bg-surface-2/60 px-2 py-1.5 dark:border-l-[color:var(--sw-solid-d)] ${changeClass(n)}`}
              style={swStyle(nsSwatch(n), { marginLeft: `${depth * 1.25}rem` })}
              data-ns-type={n.type}
              data-ns-ino={n.ino}
              data-depth={depth}
            >
              <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                <NsChip ns={n} t={t} />
                {nsTag(n, t) && <span className="text-[0.8667rem] font-medium text-muted">{nsTag(n, t)}</span>}
                <span className="text-[0.8667rem] text-subtle">{t.procCount(n.processes.length)}</span>
                {ownerUid != null && <span className="text-[0.8667rem] text-subtle">· {t.createdBy(ownerUid)}</span>}
              </div>
              {owns.length > 0 && (
                <div className="mt-1 flex flex-wrap items-center gap-1 text-[0.8667rem] text-muted">
                  <span>{t.owns}:</span>
                  {owns.map((o) => (
                    <NsChip key={nsKey(o.type, o.ino)} ns={o} t={t} />
                  ))}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
