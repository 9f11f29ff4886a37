import type { ITheme } from "@xterm/xterm";
import type { Theme } from "./prefs";

/** Terminal colours tuned for each UI theme (the light one keeps yellow and cyan readable on white). */
export const XTERM_THEMES: Record<Theme, ITheme> = {
  dark: {
    background: "#0a0b0e",
    foreground: "#d9dbe1",
    cursor: "#a3a2fa",
    cursorAccent: "#0a0b0e",
    selectionBackground: "#8d8cf74d",
    selectionInactiveBackground: "#8d8cf72a",
    black: "#1c1f25",
    red: "#f27171",
    green: "#5fd08f",
    yellow: "#e8c15a",
    blue: "#76a6f8",
    magenta: "#c893f0",
    cyan: "#5ccfd6",
    white: "#c9ccd3",
    brightBlack: "#6a707c",
    brightRed: "#ff9191",
    brightGreen: "#86e3ad",
    brightYellow: "#f5d67f",
    brightBlue: "#9dc0ff",
    brightMagenta: "#dcb2fa",
    brightCyan: "#8ce3e8",
    brightWhite: "#f2f3f5",
  },
  light: {
    background: "#fbfbfc",
    foreground: "#1d1f24",
    cursor: "#5150d0",
    cursorAccent: "#fbfbfc",
    selectionBackground: "#5150d03a",
    selectionInactiveBackground: "#5150d022",
    black: "#1d1f24",
    red: "#c42b2b",
    green: "#1a7a42",
    yellow: "#8a6100",
    blue: "#2c5fcf",
    magenta: "#9a3cb8",
    cyan: "#0f7480",
    white: "#6b707b",
    brightBlack: "#5c616b",
    brightRed: "#d93f3f",
    brightGreen: "#218c4d",
    brightYellow: "#9c6f00",
    brightBlue: "#3b6fe0",
    brightMagenta: "#a94ac8",
    brightCyan: "#138592",
    brightWhite: "#3a3e46",
  },
};

export const TERMINAL_FONT =
  'ui-monospace, "SFMono-Regular", "JetBrains Mono", "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono CJK SC", monospace';
