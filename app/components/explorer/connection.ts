/**
 * The explorer's WebSocket (WS /api/labs/:id/explorer), independent of React: delivers server
 * messages and re-sends the chosen mount pids after every (re)connect. Reconnecting is
 * ReconnectingSocket's job; it stops when the lab is gone (close code CLOSE.LAB_GONE, or a lab_gone error).
 */
import { CLOSE, type ExplorerClientMessage, type ExplorerServerMessage } from "@/lib/protocol";
import { ReconnectingSocket, type BackoffPolicy, type LinkState, type SocketLike } from "@/app/lib/reconnecting-socket";

export type ExplorerConnState = LinkState<"lab-destroyed">;
export type { SocketLike };

export interface ExplorerConnOptions {
  url: () => string;
  onMessage(msg: ExplorerServerMessage): void;
  onState(s: ExplorerConnState): void;
  socket?: (url: string) => SocketLike;
  policy?: BackoffPolicy;
}

const GONE = "The lab is not running any more.";

export class ExplorerConnection {
  private readonly link: ReconnectingSocket<"lab-destroyed">;
  private pids: number[] = [];

  constructor(o: ExplorerConnOptions) {
    this.link = new ReconnectingSocket<"lab-destroyed">({
      url: o.url,
      socket: o.socket,
      policy: o.policy,
      onState: o.onState,
      onOpen: () => this.sendPids(),
      onMessage: (data) => {
        if (typeof data !== "string") return;
        let msg: ExplorerServerMessage;
        try {
          msg = JSON.parse(data) as ExplorerServerMessage;
        } catch {
          return;
        }
        // the first picture of the lab: the link works (and the next failure starts the backoff over)
        if (msg.type === "snapshot" && !this.live) {
          this.live = true;
          this.link.markOpen();
        }
        if (msg.type === "error" && msg.code === "lab_gone") this.link.stop({ reason: "lab-destroyed", message: msg.message || GONE });
        o.onMessage(msg);
      },
      onClose: (code) => {
        this.live = false;
        return code === CLOSE.LAB_GONE ? { reason: "lab-destroyed", message: GONE } : null;
      },
    });
  }

  private live = false;

  connect(): void {
    this.live = false;
    this.link.connect();
  }

  /** Whose mount tables to follow (sent now if connected, and after every reconnect). */
  setMountPids(pids: number[]): void {
    const next = [...new Set(pids)].slice(0, 4);
    if (next.length === this.pids.length && next.every((p, i) => p === this.pids[i])) return;
    this.pids = next;
    this.sendPids();
  }

  /** Skip the wait (a button). */
  reconnectNow(): void {
    this.link.reconnectNow();
  }

  dispose(): void {
    this.link.dispose();
  }

  private sendPids(): void {
    const msg: ExplorerClientMessage =
      this.pids.length === 1 ? { type: "mounts", pid: this.pids[0]! } : this.pids.length ? { type: "mounts", pids: this.pids } : { type: "mounts", pid: null };
    this.link.send(JSON.stringify(msg));
  }
}
