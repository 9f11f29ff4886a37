import type { LabSnapshot } from "@/lib/protocol";
import { Icon } from "../ui/Icon";
import { Tokens } from "../ui/Tokens";
import { withChanges, type ChangesView } from "./model/changes";
import { differingTypes, labRoots, nsKey } from "./model/namespaces";
import { pidLevels, processTree } from "./model/processes";
import type { Strings } from "./strings";
import { changeClass, Empty, NsChip, TreeGuides, useRovingRows } from "./ui";

/** The lab's processes as a tree by parent: PIDs at every level, command, uid inside and out, namespaces of their own. */
export function ProcessesView({ snap, changes, terminals, t }: { snap: LabSnapshot; changes: ChangesView; terminals: string[]; t: Strings }) {
  const shown = withChanges(snap, changes);
  const rows = processTree(shown.processes);
  const roots = labRoots(snap.namespaces);
  const nsByKey = new Map(shown.namespaces.map((n) => [nsKey(n.type, n.ino), n]));
  const roving = useRovingRows<HTMLTableSectionElement>();
  if (!rows.length) return <Empty>{t.waiting}</Empty>;
  return (
    <table className="w-full border-collapse text-left text-[0.9333rem]" data-testid="explorer-processes">
      <thead className="sticky top-0 z-10 bg-surface text-[0.8667rem] text-muted">
        <tr className="border-b border-line">
          <th scope="col" className="px-3 py-2 font-medium">
            {t.process}
          </th>
          <th scope="col" className="px-3 py-2 font-medium">
            {t.pids}
          </th>
          <th scope="col" className="px-3 py-2 font-medium">
            {t.user}
          </th>
          <th scope="col" className="px-3 py-2 font-medium">
            {t.inOtherNs}
          </th>
        </tr>
      </thead>
      <tbody ref={roving.ref} onKeyDown={roving.onKeyDown} onFocus={roving.onFocus}>
        {rows.map(({ item: p, lasts }) => {
          const own = differingTypes(p, roots);
          const changed = changes.changedProcs.has(p.hostPid);
          const term = p.terminal ? terminals.indexOf(p.terminal) + 1 : 0; // the learner's tab number, 0 if not theirs
          return (
            <tr
              key={p.hostPid}
              data-row=""
              tabIndex={-1}
              data-pid-host={p.hostPid}
              data-nspid={p.nspid.join(" ")}
              data-gone={p.gone ? "" : undefined}
              data-fresh={p.fresh ? "" : undefined}
              data-terminal={term || undefined}
              data-foreground={term && p.foreground ? "" : undefined}
              data-terminal-shell={term && p.shell ? "" : undefined}
              className={`nsx-row border-b border-line/60 align-top hover:bg-surface-2 ${changeClass(p, changed)}`}
            >
              <th scope="row" className="px-3 py-1.5 font-normal">
                <div className="flex min-w-[11rem] items-baseline">
                  <TreeGuides lasts={lasts} />
                  <span className="flex min-w-0 flex-wrap items-baseline gap-x-2">
                    <span className="font-mono font-semibold text-fg">{p.comm}</span>
                    {p.cmdline && p.cmdline !== p.comm && (
                      <span className="font-mono text-[0.8667rem] text-muted">
                        <Tokens text={p.cmdline} />
                      </span>
                    )}
                    {p.gone && <span className="text-[0.8667rem] text-danger">({t.gone_})</span>}
                    {p.fresh && <span className="sr-only"> ({t.fresh})</span>}
                    {changed && <span className="sr-only"> ({t.changed})</span>}
                    {p.state === "Z" && <span className="text-[0.8667rem] text-warning">&lt;defunct&gt;</span>}
                    {term > 0 && <TerminalMarks n={term} shell={!!p.shell} foreground={!!p.foreground} t={t} />}
                    <span className="sr-only">, {t.parentPid(p.ppid)}</span>
                  </span>
                </div>
              </th>
              <td className="whitespace-nowrap px-3 py-1.5 font-mono">
                {pidLevels(p.nspid).map((l, i) => (
                  <span key={i}>
                    {i > 0 && <span className="px-1 text-subtle">·</span>}
                    {l.level === "host" ? (
                      <span className="text-muted">
                        {t.host} {l.pid}
                      </span>
                    ) : l.level === "lab" ? (
                      <span className="font-semibold text-fg">
                        {t.lab} {l.pid}
                      </span>
                    ) : (
                      <span className="font-semibold text-accent">{l.pid}</span>
                    )}
                  </span>
                ))}
              </td>
              <td className="whitespace-nowrap px-3 py-1.5 font-mono">
                <span className="font-semibold text-fg" title={t.uidInside}>
                  {p.uidInside === 0 ? "root" : p.uidInside}
                </span>
                <span className="px-1 text-subtle">·</span>
                <span className="text-muted" title={t.uidHost}>
                  {t.host} {p.uidHost}
                </span>
              </td>
              <td className="px-3 py-1.5">
                {own.length ? (
                  <span className="flex flex-wrap gap-1">
                    {own.map((type) => {
                      const n = nsByKey.get(nsKey(type, p.ns[type]!));
                      return <NsChip key={type} t={t} ns={n ?? { type, ino: p.ns[type]!, isLabRoot: false }} />;
                    })}
                  </span>
                ) : (
                  <span className="text-[0.8667rem] text-subtle">{t.sameAsLab}</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Which of the learner's terminals a process belongs to; the terminal's shell; where their keys go. */
function TerminalMarks({ n, shell, foreground, t }: { n: number; shell: boolean; foreground: boolean; t: Strings }) {
  return (
    <span className="inline-flex flex-wrap items-center gap-1">
      {foreground ? (
        <span className="whitespace-nowrap rounded bg-accent px-1.5 text-[0.8667rem] font-medium leading-5 text-accent-fg" title={t.youAreHereTitle(n)}>
          ▸ {t.youAreHere(n)}
        </span>
      ) : shell ? (
        <span className="whitespace-nowrap rounded border border-accent/50 px-1.5 text-[0.8667rem] leading-5 text-accent" title={t.terminalShellTitle}>
          {t.terminalShell(n)}
        </span>
      ) : (
        <span className="whitespace-nowrap rounded bg-surface-3 px-1 font-mono text-[0.8667rem] leading-5 text-muted" title={t.inTerminal(n)}>
          <span aria-hidden="true" className="inline-flex items-center gap-0.5">
            <Icon name="terminal" size={11} />
            {n}
          </span>
          <span className="sr-only">{t.inTerminal(n)}</span>
        </span>
      )}
    </span>
  );
}
