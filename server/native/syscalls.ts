import "server-only";
import net from "node:net";
import { tracerStart, tracerWatch } from "./core.ts";

/** The order of ns_before in a record (native/src/tracer.c). */
export const TRACED_NS = ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"] as const;

/** One namespace call a learner's process made, as the native tracer saw it before letting it go on. */
export interface LearnerCall {
  hostPid: number;
  /** its pid in the lab's own pid namespace, read while it waited (null: unknown) */
  labPid: number | null;
  nr: number;
  sys: string;
  args: string;
  comm: string;
  /** wall time (ms) of the call */
  at: number;
  /** the caller's namespaces (inodes) just before the call */
  nsBefore: Record<(typeof TRACED_NS)[number], number> | null;
  /** unshare, setns: the same once they changed (or a few ms later), null if the caller was gone */
  nsAfter: Record<(typeof TRACED_NS)[number], number> | null;
  /**
   * sethostname, setdomainname: what the kernel's rule needs, read while the caller was suspended
   * in the call (it has often exited by the time the record is read): the user namespace that
   * owns its UTS namespace (inode), and where that is from its own user namespace (0: the same,
   * n: its n-th ancestor, -1: neither). null when not read.
   */
  utsOwner: { userNs: number; up: number } | null;
  /** sethostname, setdomainname: the caller's effective capabilities at the call (null: not read) */
  capEff: bigint | null;
  /**
   * unshare(CLONE_NEWUSER): the new user namespace's uid_map and gid_map as written within a
   * moment of the call (host ids; "" when not written), read through files the tracer opened
   * while the caller was in it, so also when the caller has exited since. null: not read.
   */
  maps: { uid: string; gid: string } | null;
}

const RECORD = 824;

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("utf8", off, end < 0 || end > off + len ? off + len : end);
}

/**
 * Delivers the records of the native tracer thread (native/src/tracer.c): it answers every
 * notification of the watched seccomp listeners itself and writes an 824-byte record per call to a
 * pipe, which we read like a socket. Each watched listener has a tag; records go to its handler.
 */
class SyscallTracer {
  private handlers = new Map<number, (c: LearnerCall) => void>();
  private nextTag = 1;
  private socket: net.Socket | null = null;
  private pending: Buffer = Buffer.alloc(0);

  private ensure(): void {
    if (this.socket) return;
    const fd = tracerStart();
    const sock = new net.Socket({ fd, readable: true, writable: false });
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
    sock.on("error", (err) => console.error("nslab: syscall tracer pipe error", err));
    sock.unref();
    this.socket = sock;
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const monoNow = process.hrtime.bigint(); // CLOCK_MONOTONIC, as the records' t_ns
    const wallNow = Date.now();
    while (this.pending.length >= RECORD) {
      const b = this.pending.subarray(0, RECORD);
      this.pending = this.pending.subarray(RECORD);
      const tag = b.readInt32LE(0);
      const flags = b.readInt32LE(16);
      const t = b.readBigUInt64LE(24);
      const ns = (off: number) => Object.fromEntries(TRACED_NS.map((name, i) => [name, Number(b.readBigUInt64LE(off + 8 * i))])) as LearnerCall["nsBefore"];
      const call: LearnerCall = {
        hostPid: b.readInt32LE(4),
        labPid: b.readInt32LE(8) || null,
        nr: b.readInt32LE(12),
        at: wallNow - Number(monoNow - t) / 1e6,
        nsBefore: flags & 1 ? ns(32) : null,
        nsAfter: flags & 2 ? ns(96) : null,
        comm: cstr(b, 160, 16),
        sys: cstr(b, 176, 24),
        args: cstr(b, 200, 416),
        utsOwner: flags & 4 ? { userNs: Number(b.readBigUInt64LE(616)), up: b.readInt32LE(20) } : null,
        capEff: flags & 8 ? b.readBigUInt64LE(624) : null,
        maps: flags & 16 ? { uid: cstr(b, 632, 96), gid: cstr(b, 728, 96) } : null,
      };
      try {
        this.handlers.get(tag)?.(call);
      } catch (e) {
        console.error("nslab: a learner-call handler failed", e);
      }
    }
  }

  /**
   * Hands a seccomp listener fd to the native tracer, which keeps a duplicate of its own (the
   * caller closes theirs) until no process uses the filter. `onCall` runs for every call until
   * the returned function is called.
   */
  watch(listener: number, onCall: (c: LearnerCall) => void): () => void {
    this.ensure();
    const tag = this.nextTag++;
    this.handlers.set(tag, onCall);
    tracerWatch(listener, tag);
    return () => this.handlers.delete(tag);
  }
}

export const syscalls = new SyscallTracer();
