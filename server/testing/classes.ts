import "server-only";
import { WebSocket } from "ws";

/** A class socket that collects JSON messages and binary bytes. */
export class ClassSock {
  ws: WebSocket;
  msgs: Record<string, unknown>[] = [];
  text = "";
  opened: Promise<void>;
  closedWith: number | null = null;
  constructor(base: string, path: string, token: string) {
    this.ws = new WebSocket(`${base.replace("http", "ws")}${path}?token=${token}`);
    this.opened = new Promise((res, rej) => {
      this.ws.once("open", () => res());
      this.ws.once("unexpected-response", (_q, r) => rej(new Error(`HTTP ${r.statusCode}`)));
      this.ws.once("error", rej);
    });
    this.ws.on("message", (d, bin) => {
      if (bin) this.text += (d as Buffer).toString("utf8");
      else this.msgs.push(JSON.parse(d.toString()));
    });
    this.ws.on("close", (code) => (this.closedWith = code));
  }
  async until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; messages: ${JSON.stringify(this.msgs).slice(-1500)}; text: ${this.text.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  has(type: string, where: (m: Record<string, unknown>) => boolean = () => true) {
    return this.msgs.some((m) => m.type === type && where(m));
  }
  json(m: unknown) {
    this.ws.send(JSON.stringify(m));
  }
  close() {
    this.ws.close();
  }
}
