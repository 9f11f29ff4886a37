/** Skeleton of the lesson page while it loads. */
export default function Loading() {
  return (
    <div className="flex h-dvh flex-col" aria-busy="true">
      <div className="h-12 shrink-0 border-b border-line bg-surface" />
      <div className="flex min-h-0 flex-1">
        <div className="w-2/5 space-y-4 border-r border-line p-6">
          <div className="h-3 w-24 rounded bg-surface-3" />
          <div className="h-7 w-3/4 rounded bg-surface-3" />
          <div className="h-4 w-full rounded bg-surface-2" />
          <div className="h-4 w-5/6 rounded bg-surface-2" />
          <div className="mt-8 h-40 rounded-xl border border-line bg-surface" />
        </div>
        <div className="flex-1 bg-term-bg" />
      </div>
    </div>
  );
}
