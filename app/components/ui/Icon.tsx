/** Small inline stroke icons (no icon font, no CDN). 16px by default, currentColor. */
const PATHS = {
  play: "M5 3.5v9l7.5-4.5z",
  copy: "M5.5 5.5h7v7h-7z M3.5 10.5v-7h7",
  check: "M3.5 8.5l3 3 6-7",
  x: "M4.5 4.5l7 7 M11.5 4.5l-7 7",
  plus: "M8 3.5v9 M3.5 8h9",
  sun: "M8 5.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z M8 1.5v1.5 M8 13v1.5 M1.5 8H3 M13 8h1.5 M3.4 3.4l1.1 1.1 M11.5 11.5l1.1 1.1 M3.4 12.6l1.1-1.1 M11.5 4.5l1.1-1.1",
  moon: "M13 9.5A5.5 5.5 0 0 1 6.5 3a5.5 5.5 0 1 0 6.5 6.5z",
  text: "M2.5 12.5l3-8 3 8 M3.6 10h3.8 M9.5 12.5l2-5.5 2 5.5 M10.2 10.8h2.6",
  globe: "M8 1.75a6.25 6.25 0 1 0 0 12.5 6.25 6.25 0 0 0 0-12.5z M1.75 8h12.5 M8 1.75c1.7 1.8 2.5 3.8 2.5 6.25S9.7 12.45 8 14.25C6.3 12.45 5.5 10.45 5.5 8S6.3 3.55 8 1.75z",
  refresh: "M12.5 5.5A5 5 0 1 0 13 9 M12.5 2.5v3h-3",
  arrowLeft: "M9.5 3.5L5 8l4.5 4.5",
  arrowRight: "M6.5 3.5L11 8l-4.5 4.5",
  bulb: "M6 12.5h4 M6.5 14.5h3 M8 1.5a4.5 4.5 0 0 0-2.5 8.2V11h5V9.7A4.5 4.5 0 0 0 8 1.5z",
  clock: "M8 1.75a6.25 6.25 0 1 0 0 12.5 6.25 6.25 0 0 0 0-12.5z M8 4.5V8l2.5 1.5",
  layers: "M8 2l6 3-6 3-6-3z M2 8l6 3 6-3 M2 11l6 3 6-3",
  terminal: "M2.5 3.5h11v9h-11z M5 6.5l2 1.5-2 1.5 M8.5 10h2.5",
  alert: "M8 2l6.5 11.5h-13z M8 6.5v3 M8 11.5v.01",
  wifiOff: "M2 2l12 12 M5.5 8.5a4 4 0 0 1 3.2-1.1 M3 6a8 8 0 0 1 3-1.7 M10.5 5a8 8 0 0 1 2.5 1 M7 11a1.5 1.5 0 0 1 2 0",
  panel: "M2.5 3.5h11v9h-11z M2.5 9.5h11",
  chevronDown: "M4.5 6.5L8 10l3.5-3.5",
  chevronUp: "M4.5 9.5L8 6l3.5 3.5",
  keyboard: "M1.5 4.5h13v7h-13z M4 7h.01 M6.5 7h.01 M9 7h.01 M11.5 7h.01 M5 9.5h6",
  eye: "M1.5 8s2.4-4.5 6.5-4.5S14.5 8 14.5 8s-2.4 4.5-6.5 4.5S1.5 8 1.5 8z M8 6a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
  hand: "M5.5 8.5V3.5a1 1 0 0 1 2 0v4 M7.5 7V2.5a1 1 0 0 1 2 0V7 M9.5 7V3.5a1 1 0 0 1 2 0v5.5c0 3-1.8 5.5-4.5 5.5-2 0-3-1-4-2.5l-1.5-2.5a1 1 0 0 1 1.7-1l1.3 1.5",
  cast: "M1.5 11a3.5 3.5 0 0 1 3.5 3.5 M1.5 8.5a6 6 0 0 1 6 6 M1.5 5.5V3.5h13v9h-4.5",
  users: "M6 7.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z M1.5 13.5c0-2.5 2-4 4.5-4s4.5 1.5 4.5 4 M10.5 2.7a2.5 2.5 0 0 1 0 4.6 M12 9.7c1.5.5 2.5 1.8 2.5 3.8",
  lock: "M3.5 7.5h9v6.5h-9z M5.5 7.5V5a2.5 2.5 0 0 1 5 0v2.5",
  unlock: "M3.5 7.5h9v6.5h-9z M5.5 7.5V5a2.5 2.5 0 0 1 4.9-.7",
  download: "M8 2.5v8 M4.5 7L8 10.5 11.5 7 M2.5 13.5h11",
  qr: "M2.5 2.5h4v4h-4z M9.5 2.5h4v4h-4z M2.5 9.5h4v4h-4z M9.5 9.5h1.5v1.5 M12 12h1.5v1.5 M9.5 13.5h.01 M13.5 9.5h.01",
  split: "M2.5 3.5h11v9h-11z M8 3.5v9",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 16, className, strokeWidth = 1.5 }: { name: IconName; size?: number; className?: string; strokeWidth?: number }) {
  const filled = name === "play";
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 16 16"
      fill={filled ? "currentColor" : "none"}
      stroke="currentColor"
      strokeWidth={filled ? 0 : strokeWidth}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      className={className}
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
