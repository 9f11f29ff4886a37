"use client";
import { useEffect, useRef, useState } from "react";
import type { ClassView, DashboardMessage, HelpRequest, LearnerView } from "@/lib/classes";
import { classSocketUrl } from "@/app/lib/classes";
import { ReconnectingSocket } from "@/app/lib/reconnecting-socket";

export interface DashboardState {
  connected: boolean;
  klass: ClassView | null;
  learners: Map<string, LearnerView>;
  help: HelpRequest[];
  /** server time minus this browser's, so durations are right on a skewed laptop */
  skewMs: number;
  answers: { learnerId: string; kind: "takeover" | "broadcast"; allow: boolean; at: number }[];
  denied: boolean;
}

/** The instructor's dashboard socket: the roster at once, then every change (WS /api/classes/:id/dashboard). */
export function useDashboard(classId: string, key: string | null): DashboardState {
  const [state, setState] = useState<DashboardState>({ connected: false, klass: null, learners: new Map(), help: [], skewMs: 0, answers: [], denied: false });
  const denied = useRef(false);
  useEffect(() => {
    if (!key) return;
    const s: ReconnectingSocket = new ReconnectingSocket({
      url: () => classSocketUrl(classId, "dashboard", key),
      onState: (st) => setState((x) => ({ ...x, connected: st.kind === "open" })),
      onOpen: () => s.markOpen(),
      onMessage: (data) => {
        if (typeof data !== "string") return;
        const m = JSON.parse(data) as DashboardMessage;
        setState((x) => {
          switch (m.type) {
            case "roster":
              return { ...x, klass: m.class, learners: new Map(m.learners.map((l) => [l.id, l])), help: m.help, skewMs: Date.parse(m.now) - Date.now() };
            case "learners": {
              const next = new Map(x.learners);
              for (const l of m.learners) next.set(l.id, l);
              return { ...x, learners: next, skewMs: Date.parse(m.now) - Date.now() };
            }
            case "help":
              return { ...x, help: m.help };
            case "class":
              return { ...x, klass: m.class };
            case "answer":
              return { ...x, answers: [...x.answers.slice(-20), { learnerId: m.learnerId, kind: m.kind, allow: m.allow, at: Date.now() }] };
            default:
              return x;
          }
        });
      },
      beforeRetry: async () => {
        // a wrong key or an unknown class never gets better: stop asking
        const r = await fetch(`/api/classes/${classId}`, { headers: { authorization: `Bearer ${key}` } }).catch(() => null);
        if (r && r.status === 404) {
          denied.current = true;
          setState((x) => ({ ...x, denied: true }));
          return { reason: "denied", message: "" };
        }
        return null;
      },
    });
    s.connect();
    return () => s.dispose();
  }, [classId, key]);
  return state;
}

/** A clock that ticks every second, for "time on step" and "last activity". */
export function useNow(skewMs = 0): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now + skewMs;
}
