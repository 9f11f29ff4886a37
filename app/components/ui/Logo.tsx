/** The nslab mark: nested namespaces around a prompt. Same drawing as public/logo.svg. */
export function Logo({ size = 24, className }: { size?: number; className?: string }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" focusable="false" className={className}>
      <rect x="2" y="2" width="60" height="60" rx="14" fill="var(--c-accent)" />
      <rect x="10" y="10" width="44" height="44" rx="10" fill="none" stroke="var(--c-accent-fg)" strokeOpacity="0.35" strokeWidth="3" />
      <rect x="18" y="18" width="28" height="28" rx="6" fill="none" stroke="var(--c-accent-fg)" strokeOpacity="0.7" strokeWidth="3" />
      <path d="M26 27l5 5-5 5" fill="none" stroke="var(--c-accent-fg)" strokeWidth="3.5" strokeLinecap="round" strokeLinejoin="round" />
      <path d="M33 38h6" stroke="var(--c-accent-fg)" strokeWidth="3.5" strokeLinecap="round" />
    </svg>
  );
}
