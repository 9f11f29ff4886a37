"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { CLASS_CLOSE, type ClassPublicView, type ConsentKind, type FollowTarget, type LearnerClientMessage, type LearnerServerMessage, type StageInfo, type StepPass } from "@/lib/classes";
import { classSocketUrl, type StoredMembership } from "@/app/lib/classes";
import { ReconnectingSocket } from "@/app/lib/reconnecting-socket";

export interface ClassControlState {
  connected: boolean;
  klass: ClassPublicView | null;
  watchers: number;
  grants: { takeover: boolean; broadcast: boolean };
  requests: ConsentKind[];
  stage: StageInfo | null;
  hand: { raised: boolean; message: string };
  follow: FollowTarget | null;
  labsEndAt: string | null;
  ended: boolean;
}

const INITIAL: ClassControlState = {
  connected: false,
  klass: null,
  watchers: 0,
  grants: { takeover: false, broadcast: false },
  requests: [],
  stage: null,
  hand: { raised: false, message: "" },
  follow: null,
  labsEndAt: null,
  ended: false,
};

/**
 * The learner's control socket (WS /api/classes/:id/learner): what the class is doing (follow me,
 * the broadcast, the end), who watches this learner's terminal, the instructor's requests; and
 * where the learner is, their hand, their answers. Reconnects by itself; the last position is sent
 * again on every connection.
 */
export function useClassControl(m: StoredMembership | null, onPassed: (p: StepPass) => void, onLab: () => void) {
  const [state, setState] = useState<ClassControlState>(INITIAL);
  const sock = useRef<ReconnectingSocket | null>(null);
  const position = useRef<LearnerClientMessage | null>(null);
  const cbs = useRef({ onPassed, onLab });
  cbs.current = { onPassed, onLab };

  useEffect(() => {
    if (!m) return;
    const patch = (p: Partial<ClassControlState> | ((s: ClassControlState) => Partial<ClassControlState>)) =>
      setState((s) => ({ ...s, ...(typeof p === "function" ? p(s) : p) }));
    const s = new ReconnectingSocket({
      url: () => classSocketUrl(m.classId, "learner", m.key),
      onState: (st) => patch({ connected: st.kind === "open" }),
      onOpen: () => {
        s.markOpen();
        if (position.current) s.send(JSON.stringify(position.current));
      },
      onMessage: (data) => {
        if (typeof data !== "string") return;
        let msg: LearnerServerMessage;
        try {
          msg = JSON.parse(data) as LearnerServerMessage;
        } catch {
          return;
        }
        switch (msg.type) {
          case "class":
            return patch({ klass: msg.class, labsEndAt: msg.class.labsEndAt, ended: msg.class.state === "ended" });
          case "watchers":
            return patch({ watchers: msg.count });
          case "grants":
            return patch((st) => ({ grants: { takeover: msg.takeover, broadcast: msg.broadcast }, requests: st.requests.filter((k) => !(msg as Record<string, unknown>)[k]) }));
          case "request":
            return patch((st) => ({ requests: st.requests.includes(msg.kind) ? st.requests : [...st.requests, msg.kind] }));
          case "stage":
            return patch({ stage: msg.stage });
          case "hand":
            return patch({ hand: { raised: msg.raised, message: msg.message } });
          case "follow":
            return patch({ follow: msg.follow });
          case "passed":
            return cbs.current.onPassed(msg.pass);
          case "lab":
            return cbs.current.onLab();
          case "ending":
            return patch({ labsEndAt: msg.labsEndAt });
          case "ended":
            s.expectFinal({ reason: "ended", message: "" });
            return patch({ ended: true });
        }
      },
      onClose: (code) => (code === CLASS_CLOSE.ended ? { reason: "ended", message: "" } : code === 4404 ? { reason: "gone", message: "" } : null),
    });
    sock.current = s;
    s.connect();
    return () => {
      s.dispose();
      sock.current = null;
    };
  }, [m?.classId, m?.key]); // eslint-disable-line react-hooks/exhaustive-deps

  const send = useCallback((msg: LearnerClientMessage) => sock.current?.send(JSON.stringify(msg)), []);

  const setPosition = useCallback(
    (lesson: string, step: string | null, terminal: string | null) => {
      const p: LearnerClientMessage = { type: "position", lesson, step, terminal };
      const prev = position.current;
      position.current = p;
      if (prev && JSON.stringify(prev) === JSON.stringify(p)) return;
      send(p);
    },
    [send],
  );
  const raiseHand = useCallback((raised: boolean, message = "") => send({ type: "hand", raised, message }), [send]);
  const answer = useCallback(
    (kind: ConsentKind, allow: boolean) => {
      send({ type: "answer", kind, allow });
      setState((s) => ({ ...s, requests: s.requests.filter((k) => k !== kind) }));
    },
    [send],
  );
  const revoke = useCallback((kind: ConsentKind) => send({ type: "revoke", kind }), [send]);

  return { state, setPosition, raiseHand, answer, revoke };
}
