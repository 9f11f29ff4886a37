import "server-only";
import { format } from "node:util";
import pino, { type DestinationStream, type Logger } from "pino";

/**
 * The server's log: JSON lines (pino) on stdout, one object per event, with a request id where
 * there is a request. `journalctl -u nslab -o cat | npx pino-pretty` reads them comfortably.
 *
 * Secrets never reach it. Routes log the path without its query string (a lab socket's URL
 * carries `?token=`), requests are never logged with their headers or bodies, and as a last line of
 * defence every string logged is scrubbed of anything shaped like a token: `token=…`,
 * `Bearer …`, and the 32-character base64url strings nslab's lab tokens, tickets and keys are.
 */

export type { Logger };

const TOKEN_PARAM = /((?:token|ticket|key|code)=)[^&\s"']+/gi;
const BEARER = /(Bearer\s+)[^\s"',]+/gi;
/** nslab's own tokens: 24 random bytes in base64url */
const RAW_TOKEN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])/g;

export function scrub(s: string): string {
  return s.replace(TOKEN_PARAM, "$1[redacted]").replace(BEARER, "$1[redacted]").replace(RAW_TOKEN, (m) => (/[A-Z]/.test(m) && /[a-z]/.test(m) ? "[redacted]" : m));
}

function scrubValue(v: unknown, depth = 0): unknown {
  if (typeof v === "string") return scrub(v);
  if (depth > 4 || v === null || typeof v !== "object") return v;
  if (v instanceof Error) return { type: v.name, message: scrub(v.message), stack: v.stack ? scrub(v.stack) : undefined };
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = /^(token|authorization|cookie|code|key|ticket|password|secret)$/i.test(k) ? "[redacted]" : scrubValue(x, depth + 1);
  return out;
}

export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      // under node's test runner (NODE_TEST_CONTEXT) only warnings and errors, unless asked: the
      // runner's output is TAP
      level: opts.level ?? process.env.NSLAB_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? "warn" : "info"),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrubValue(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // pino formats "msg %s" itself; scrub the strings first
          method.apply(this, args.map((a) => (typeof a === "string" ? scrub(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** The process's logger. */
export let log: Logger = createLogger();

/** Replaces the process's logger (a test capturing what is logged). */
export function setLogger(l: Logger): void {
  log = l;
}

/**
 * Sends console.log/info/warn/error through the logger, so that code which prints with console
 * (and libraries) still logs structured, scrubbed lines. Called once by server/main.ts.
 */
export function routeConsole(): void {
  const to = (level: "info" | "warn" | "error") =>
    (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error) as Error | undefined;
      const msg = format(...args.map((a) => (a instanceof Error ? a.message : a)));
      if (err) log[level]({ err }, msg);
      else log[level](msg);
    };
  console.log = to("info");
  console.info = to("info");
  console.warn = to("warn");
  console.error = to("error");
}
