import type { IdMapLine, LabSnapshot } from "@/lib/protocol";
import { nsHierarchy, nsKey, rangeText } from "./model/namespaces";
import type { Strings } from "./strings";
import { Empty, NsChip, nsTag } from "./ui";

/** Each user namespace (nested as the kernel nests them) with its uid_map, gid_map and setgroups. */
export function UsersView({ snap, t }: { snap: LabSnapshot; t: Strings }) {
  const nodes = nsHierarchy(snap.namespaces, "user");
  if (!nodes.length) return <Empty>{t.waiting}</Empty>;
  return (
    <div className="flex flex-col gap-3 p-3" data-testid="explorer-users">
      {nodes.map(({ ns, depth }) => {
        const maps = snap.userMaps.find((m) => m.ino === ns.ino);
        const procs = snap.processes.filter((p) => p.ns.user === ns.ino);
        return (
          <section
            key={nsKey(ns.type, ns.ino)}
            className="rounded-lg border border-line bg-surface p-3"
            style={{ marginLeft: `${Math.min(depth, 6) * 1.5}rem` }}
            aria-label={t.nsLabel("user", ns.ino, nsTag(ns, t))}
            data-ns-type="user"
            data-ns-ino={ns.ino}
          >
            <header className="mb-2 flex flex-wrap items-center gap-2 text-[0.9333rem]">
              <NsChip ns={ns} t={t} />
              {nsTag(ns, t) && <span className="font-medium text-muted">{nsTag(ns, t)}</span>}
              {maps?.ownerUid != null && <span className="text-[0.8667rem] text-subtle">{t.createdBy(maps.ownerUid)}</span>}
              {maps && (
                <span className="rounded bg-surface-2 px-1.5 py-0.5 font-mono text-[0.8667rem]">
                  {t.setgroups}
                  {t.colon}
                  <span className={maps.setgroups === "deny" ? "text-warning" : "text-fg"} title={t.setgroupsTitle(maps.setgroups)}>
                    {t.setgroupsValue(maps.setgroups)}
                  </span>
                </span>
              )}
            </header>
            {!maps ? (
              <p className="text-[0.9333rem] text-muted">{ns.host ? t.hostUserNs : t.noMaps}</p>
            ) : (
              <div className="grid gap-3 lg:grid-cols-2">
                <MapTable title={t.uidMap} lines={maps.uidMap} t={t} />
                <MapTable title={t.gidMap} lines={maps.gidMap} t={t} />
              </div>
            )}
            {procs.length > 0 && (
              <div className="mt-2 text-[0.9333rem]">
                <span className="text-muted">{t.members}: </span>
                {procs.map((p, i) => (
                  <span key={p.hostPid} className="font-mono" data-pid-host={p.hostPid}>
                    {i > 0 && ", "}
                    {p.comm} <span className="text-muted">({t.lab} {p.nspid[1] ?? "?"})</span> uid {p.uidInside}
                    <span className="text-subtle">
                      {" "}
                      ← {t.host} {p.uidHost}
                    </span>
                  </span>
                ))}
              </div>
            )}
          </section>
        );
      })}
    </div>
  );
}

function MapTable({ title, lines, t }: { title: string; lines: IdMapLine[]; t: Strings }) {
  const hostDiffers = lines.some((l) => l.outsideHost !== undefined && l.outsideHost !== l.outside);
  return (
    <div>
      <h4 className="mb-1 font-mono text-[0.9333rem] font-semibold">{title}</h4>
      {lines.length === 0 ? (
        <p className="text-[0.9333rem] text-warning">{t.unwritten}</p>
      ) : (
        <table className="w-full border-collapse text-left font-mono text-[0.9333rem]">
          <thead className="text-[0.8667rem] text-muted">
            <tr className="border-b border-line">
              <th scope="col" className="py-1 pr-3 font-sans font-medium">
                {t.inside}
              </th>
              <th scope="col" className="py-1 pr-3 font-sans font-medium">
                {t.outsideParent}
              </th>
              {hostDiffers && (
                <th scope="col" className="py-1 pr-3 font-sans font-medium">
                  {t.outsideHost}
                </th>
              )}
              <th scope="col" className="py-1 pr-3 font-sans font-medium">
                {t.count}
              </th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l, i) => (
              <tr key={i} className="border-b border-line/60" title={rangeText(l)}>
                <td className="py-1 pr-3 font-semibold">{l.inside}</td>
                <td className="py-1 pr-3">{l.outside}</td>
                {hostDiffers && <td className="py-1 pr-3 text-muted">{l.outsideHost ?? l.outside}</td>}
                <td className="py-1 pr-3">{l.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
