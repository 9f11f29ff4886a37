/**
 * Colours of namespaces and mount peer groups: the same inode or group always gets the same
 * colour, consecutive numbers land far apart; the lab's own namespaces are neutral, the host's pale.
 */
import type { NamespaceInfo } from "@/lib/protocol";

export interface Swatch {
  /** background and text colours for light and dark themes (CSS colour strings) */
  bg: string;
  fg: string;
  bgDark: string;
  fgDark: string;
  /** a solid mark (dots, lines) */
  solid: string;
  solidDark: string;
}

const GOLDEN_ANGLE = 137.50776405;

/** A hue for a number: consecutive numbers (new namespaces often get consecutive inodes) land far apart. */
export function hueOf(n: number, offset = 0): number {
  return (((n * GOLDEN_ANGLE + offset) % 360) + 360) % 360;
}

function swatchOfHue(h: number): Swatch {
  const hue = Math.round(h);
  return {
    bg: `hsl(${hue} 85% 88%)`,
    fg: `hsl(${hue} 70% 24%)`,
    bgDark: `hsl(${hue} 45% 26%)`,
    fgDark: `hsl(${hue} 85% 85%)`,
    solid: `hsl(${hue} 65% 45%)`,
    solidDark: `hsl(${hue} 70% 62%)`,
  };
}

export const NEUTRAL: Swatch = {
  bg: "hsl(220 12% 90%)",
  fg: "hsl(220 12% 22%)",
  bgDark: "hsl(220 8% 24%)",
  fgDark: "hsl(220 10% 86%)",
  solid: "hsl(220 8% 52%)",
  solidDark: "hsl(220 8% 62%)",
};
export const HOST: Swatch = {
  bg: "hsl(35 10% 93%)",
  fg: "hsl(35 12% 30%)",
  bgDark: "hsl(35 6% 18%)",
  fgDark: "hsl(35 10% 72%)",
  solid: "hsl(35 6% 62%)",
  solidDark: "hsl(35 6% 45%)",
};

/** The colour of a namespace: the same inode always gets the same colour; the lab's own are neutral, the host's pale. */
export function nsSwatch(ns: Pick<NamespaceInfo, "ino" | "isLabRoot" | "host">): Swatch {
  if (ns.isLabRoot) return NEUTRAL;
  if (ns.host) return HOST;
  return swatchOfHue(hueOf(ns.ino));
}

/** The colour of a mount peer group (its number), the same in every table shown. */
export function groupSwatch(group: number): Swatch {
  return swatchOfHue(hueOf(group, 53));
}

/** CSS custom properties for a swatch, used with classes like bg-[var(--sw-bg)] dark:bg-[var(--sw-bg-d)]. */
export function swatchVars(s: Swatch): Record<string, string> {
  return {
    "--sw-bg": s.bg,
    "--sw-fg": s.fg,
    "--sw-bg-d": s.bgDark,
    "--sw-fg-d": s.fgDark,
    "--sw-solid": s.solid,
    "--sw-solid-d": s.solidDark,
  };
}

/** Inodes are long (4026532252); headers show the tail, which is what differs. */
export function shortIno(ino: number): string {
  const s = String(ino);
  return s.length > 5 ? "…" + s.slice(-5) : s;
}
