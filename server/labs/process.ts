import "server-only";
import net from "node:net";
import os from "node:os";
import { closeFd, signal } from "../native/core.ts";
import { exits, type ExitStatus } from "../native/exits.ts";

/**
 * A process the server started in a lab (shell or script), with its pidfd. It owns the pidfd and
 * is the only one to close it; the exit is delivered by the native monitor.
 */
export class LabProcess {
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | null = null;
  private pidfdOpen = true;
  private fdUsers = 0;

  constructor(
    readonly pid: number,
    private readonly pidfd: number,
  ) {
    this.exited = new Promise((resolve) => {
      exits.watch(pid, pidfd, (st) => {
        this.status = st;
        if (this.fdUsers === 0) this.closePidfd();
        resolve(st);
      });
    });
  }

  /**
   * Lends the pidfd to `fn` (a native call on another thread) and keeps it open until `fn` is
   * done, even if the process exits meanwhile: a closed fd number could be reused by another
   * open, and a helper would then setns() into whatever that is.
   */
  async withFd<T>(fn: (fd: number) => Promise<T>): Promise<T> {
    if (!this.pidfdOpen || this.status) throw new Error(`process ${this.pid} has exited`);
    this.fdUsers++;
    try {
      return await fn(this.pidfd);
    } finally {
      if (--this.fdUsers === 0 && this.status) this.closePidfd();
    }
  }

  get exitStatus(): ExitStatus | null {
    return this.status;
  }

  /** Signals the process through its pidfd (never a recycled pid). */
  kill(sig: NodeJS.Signals | number = "SIGKILL"): boolean {
    if (!this.pidfdOpen) return false;
    const num = typeof sig === "number" ? sig : os.constants.signals[sig];
    return signal(this.pidfd, num);
  }

  /** Signals the process's whole process group (its session leader is this process). */
  killGroup(sig: NodeJS.Signals = "SIGKILL"): void {
    if (this.status) return;
    try {
      process.kill(-this.pid, sig);
    } catch {}
  }

  private closePidfd(): void {
    if (!this.pidfdOpen) return;
    this.pidfdOpen = false;
    closeFd(this.pidfd);
  }
}

/** Reads a pipe fd to the end, keeping at most `limit` bytes. */
export function readPipe(fd: number, limit: number): { done: Promise<string>; destroy: () => void } {
  const sock = new net.Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<string>((resolve) => {
    sock.on("data", (c: Buffer) => {
      if (size < limit) chunks.push(c.subarray(0, limit - size));
      size += c.length;
    });
    const finish = () => resolve(Buffer.concat(chunks).toString("utf8"));
    sock.on("end", finish);
    sock.on("close", finish);
    sock.on("error", finish);
  });
  return { done, destroy: () => sock.destroy() };
}
