import "server-only";
import { NS_TYPES, type NsType } from "../../lib/protocol.ts";
import { nsInfo as coreNsInfo } from "../native/core.ts";

/**
 * What the kernel says about one namespace (ioctl_ns(2), through nslab_ns_info in the C core):
 * its inode, type, parent (pid and user namespaces: NS_GET_PARENT) and owning user namespace
 * (NS_GET_USERNS). The koffi binding is the shared one (server/native/core.ts); this only types
 * the answer. parent/owner are null where the kernel refuses (EPERM: the namespace is outside
 * ours, i.e. the top of the hierarchy as we see it).
 */
export interface NsFacts {
  ino: number;
  type: NsType;
  parent: number | null;
  owner: number | null;
  /** user namespaces: the effective uid of the creator, as we see it (NS_GET_OWNER_UID) */
  ownerUid: number | null;
}

/** Describes the namespace at `path` (a /proc/PID/ns/TYPE link); null if it is gone or unreadable. */
export function nsFacts(path: string): NsFacts | null {
  const r = coreNsInfo(path);
  if (!r) return null;
  const type = r.type as NsType;
  if (!(NS_TYPES as readonly string[]).includes(type)) return null;
  return {
    ino: Number(r.ino),
    type,
    parent: r.parent ?? null,
    owner: r.owner ?? null,
    ownerUid: typeof r.ownerUid === "number" ? r.ownerUid : null,
  };
}
