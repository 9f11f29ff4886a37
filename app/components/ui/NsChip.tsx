/** A namespace type as a small coloured chip (same colour everywhere in the app). */
const TONES: Record<string, string> = {
  user: "bg-amber-500/10 text-amber-800 ring-amber-600/20 dark:text-amber-300 dark:ring-amber-400/25",
  pid: "bg-indigo-500/10 text-indigo-700 ring-indigo-600/20 dark:text-indigo-300 dark:ring-indigo-400/25",
  mnt: "bg-teal-500/10 text-teal-800 ring-teal-600/20 dark:text-teal-300 dark:ring-teal-400/25",
  uts: "bg-pink-500/10 text-pink-700 ring-pink-600/20 dark:text-pink-300 dark:ring-pink-400/25",
  ipc: "bg-orange-500/10 text-orange-800 ring-orange-600/20 dark:text-orange-300 dark:ring-orange-400/25",
  net: "bg-sky-500/10 text-sky-800 ring-sky-600/20 dark:text-sky-300 dark:ring-sky-400/25",
  cgroup: "bg-lime-500/10 text-lime-800 ring-lime-600/20 dark:text-lime-300 dark:ring-lime-400/25",
  time: "bg-violet-500/10 text-violet-700 ring-violet-600/20 dark:text-violet-300 dark:ring-violet-400/25",
};

export function NsChip({ ns }: { ns: string }) {
  return (
    <span
      className={
        "inline-flex items-center rounded px-1.5 py-px font-mono text-[0.7667rem] leading-5 ring-1 ring-inset " +
        (TONES[ns] ?? "bg-surface-2 text-muted ring-line")
      }
    >
      {ns}
    </span>
  );
}
