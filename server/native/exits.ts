import "server-only";
import net from "node:net";
import { monitorStart, monitorWatch } from "./core.ts";

export interface ExitStatus {
  pid: number;
  code: number | null; // exit code when the process exited
  signal: number | null; // signal number when it was killed
}

/**
 * Delivers the exit of processes the server owns (labs' inits, shells, checks). The native monitor
 * thread reaps them and writes a 16-byte record per exit into a pipe; we read that pipe like a
 * socket, so nothing blocks the event loop.
 */
class ExitMonitor {
  private waiters = new Map<number, (s: ExitStatus) => void>();
  private early = new Map<number, ExitStatus>();
  private socket: net.Socket | null = null;
  private pending: Buffer = Buffer.alloc(0);

  private ensure(): void {
    if (this.socket) return;
    const fd = monitorStart();
    const sock = new net.Socket({ fd, readable: true, writable: false });
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
    sock.on("error", (err) => console.error("nslab: exit monitor pipe error", err));
    sock.unref(); // the monitor alone must not keep the process alive
    this.socket = sock;
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 16) {
      const pid = this.pending.readInt32LE(0);
      const code = this.pending.readInt32LE(4); // si_code
      const status = this.pending.readInt32LE(8);
      this.pending = this.pending.subarray(16);
      // si_code: CLD_EXITED=1, CLD_KILLED=2, CLD_DUMPED=3
      const st: ExitStatus = code === 1 ? { pid, code: status, signal: null } : { pid, code: null, signal: status };
      const w = this.waiters.get(pid);
      if (w) {
        this.waiters.delete(pid);
        w(st);
      } else {
        this.early.set(pid, st);
      }
    }
  }

  /** Hands the pidfd's process to the monitor; `onExit` runs once when it has been reaped. */
  watch(pid: number, pidfd: number, onExit: (s: ExitStatus) => void): void {
    this.ensure();
    this.waiters.set(pid, onExit);
    monitorWatch(pidfd);
    const e = this.early.get(pid);
    if (e) {
      this.early.delete(pid);
      this.waiters.delete(pid);
      onExit(e);
    }
  }

  watching(): number {
    return this.waiters.size;
  }
}

export const exits = new ExitMonitor();
