import "server-only";
import koffi from "koffi";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { errnoName } from "../../lib/errno.ts";
import type { Config } from "../config.ts";
import { labSpecText, spawnSpecText, type LabSpec, type SpawnSpec } from "./spec.ts";

/**
 * The koffi binding of native/build/libnslab.so. Every function returns 0 or -errno; those that
 * produce data write a JSON object into a buffer. This module only marshals: policy lives in
 * server/labs. The library is loaded once per process, from the Config's nativeDir, by
 * loadNative() (the LabManager calls it at start); calling a function before that is an error.
 */

function bind(lib: ReturnType<typeof koffi.load>) {
  return {
    abi: lib.func("int nslab_abi_version(void)"),
    setHelper: lib.func("int nslab_set_helper(const char *path)"),
    labCreate: lib.func("int nslab_lab_create(const char *spec, _Out_ uint8_t *out, size_t outlen)"),
    labShell: lib.func("int nslab_lab_shell(int sock, int helper, _Out_ uint8_t *out, size_t outlen)"),
    labPrepare: lib.func("int nslab_lab_prepare(int init_fd, const char *cgroups)"),
    labUnprepare: lib.func("void nslab_lab_unprepare(int init_fd)"),
    spawn: lib.func("int nslab_spawn(const char *spec, _Out_ uint8_t *out, size_t outlen)"),
    monitorStart: lib.func("int nslab_monitor_start(void)"),
    monitorWatch: lib.func("int nslab_monitor_watch(int pidfd)"),
    signal: lib.func("int nslab_signal(int pidfd, int sig)"),
    setWinsize: lib.func("int nslab_set_winsize(int fd, int rows, int cols)"),
    close: lib.func("int nslab_close(int fd)"),
    sealedCopy: lib.func("int nslab_sealed_copy(const char *path)"),
    nsInfo: lib.func("int nslab_ns_info(const char *path, _Out_ uint8_t *out, size_t outlen)"),
    features: lib.func("int nslab_features(_Out_ uint8_t *out, size_t outlen)"),
    tracerStart: lib.func("int nslab_tracer_start(void)"),
    tracerWatch: lib.func("int nslab_tracer_watch(int listener, int tag)"),
    setHelperTimeout: lib.func("int nslab_set_helper_timeout(int ms)"),
  };
}

let loaded: { dir: string; fns: ReturnType<typeof bind>; init: string } | null = null;
let sanitized = false;

/** Loads the C core from `config.nativeDir`; again with the same directory is a no-op. */
export function loadNative(config: Pick<Config, "nativeDir">): void {
  const dir = config.nativeDir;
  if (loaded) {
    if (loaded.dir !== dir) throw new Error(`nslab: the native core is already loaded from ${loaded.dir}, not ${dir}`);
    return;
  }
  const lib = path.join(dir, "libnslab.so");
  if (!fs.existsSync(lib)) throw new Error(`nslab: ${lib} is missing. Run \`npm install\` (it builds native/ with your C compiler).`);
  const fns = bind(koffi.load(lib));
  if (fns.abi() !== 1) throw new Error(`nslab: ${lib} is from another version; run \`npm install\``);
  loaded = { dir, fns, init: path.join(dir, "nslab-init") };
  useHelper(sanitized ? "test-helper" : "nslab-helper", sanitized ? "test-init" : "nslab-init");
}

function useHelper(helperName: string, initName: string): void {
  const { dir, fns } = loaded!;
  const helper = path.join(dir, helperName);
  const init = path.join(dir, initName);
  for (const f of [helper, init]) if (!fs.existsSync(f)) throw new Error(`nslab: ${f} is missing; run \`npm install\`${sanitized ? " and make -C native sanitized" : ""}`);
  if (fns.setHelper(helper) !== 0) throw new Error(`nslab: ${helper} is not executable; run \`npm install\``);
  loaded!.init = init;
}

function native(): ReturnType<typeof bind> {
  if (!loaded) throw new Error("nslab: the native core is not loaded yet (loadNative(config) first)");
  return loaded.fns;
}

/** The lab init binary new lab managers copy into their sealed memfd. */
export function initBinary(): string {
  native();
  return loaded!.init;
}

/**
 * Tests only: from now on (or from loading on), labs are made by the sanitized helper and run the
 * sanitized init (native/build/test-helper and test-init, built by `make -C native test`), so the
 * server's own lab spec goes through AddressSanitizer and UndefinedBehaviorSanitizer, fatally.
 */
export function useSanitizedNative(): void {
  sanitized = true;
  if (loaded) useHelper("test-helper", "test-init");
}

/** How long a native call waits for nslab-helper's answer before it kills the helper (default 20 s). */
export function setHelperTimeout(ms: number): void {
  if (native().setHelperTimeout(ms) !== 0) throw new Error(`nslab: bad helper timeout ${ms}`);
}

const OUT_SIZE = 256 * 1024;
const out = Buffer.alloc(OUT_SIZE);

function parseOut(buf: Buffer, rc: number): { rc: number; json: Record<string, unknown> } {
  const end = buf.indexOf(0);
  const text = buf.toString("utf8", 0, end < 0 ? buf.length : end);
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { ok: false, step: "native", detail: `unparsable native output (${text.length} bytes)` };
  }
  return { rc, json };
}

function callJson(fn: (buf: Buffer, len: number) => number): { rc: number; json: Record<string, unknown> } {
  out[0] = 0;
  return parseOut(out, fn(out, OUT_SIZE));
}

/**
 * Runs a native call on libuv's thread pool (koffi's async calls), so that building a lab or
 * starting a shell (a few milliseconds of process creation) never stalls other learners'
 * terminals on the event loop.
 */
function callJsonAsync(fn: { async: (...args: unknown[]) => void }, ...args: unknown[]): Promise<{ rc: number; json: Record<string, unknown> }> {
  // not zero-filled (256 KiB of page faults and memset per call): the C side always ends its answer
  // with a NUL, and parseOut reads up to the first one; an answer that never came reads as empty
  const buf = Buffer.allocUnsafeSlow(OUT_SIZE);
  buf[0] = 0;
  return new Promise((resolve, reject) => {
    fn.async(...args, buf, OUT_SIZE, (err: unknown, rc: number) => (err ? reject(err) : resolve(parseOut(buf, rc))));
  });
}

export interface RawTrace {
  sys: string;
  args: string;
  ret: number;
  errno: number;
  who: "server" | "child" | "shell";
  atNs: number;
  durNs: number;
}

export class NativeError extends Error {
  constructor(
    readonly step: string,
    readonly errno: number,
    readonly detail: string,
    readonly trace: RawTrace[],
  ) {
    super(`${step}: ${errnoName(errno)}${detail ? ` (${detail})` : ""}`);
  }
}

const SIGNAL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(os.constants.signals).map(([name, num]) => [num, name]),
);
export function signalName(n: number | null): string | null {
  return n == null ? null : (SIGNAL_NAMES[n] ?? String(n));
}

function check(rc: number, json: Record<string, unknown>): Record<string, unknown> {
  if (rc === 0 && json.ok) return json;
  throw new NativeError(
    String(json.step ?? "native"),
    Number(json.errno ?? -rc),
    String(json.detail ?? ""),
    (json.trace as RawTrace[]) ?? [],
  );
}

export interface LabCreated {
  pid: number;
  pidfd: number;
  timens: boolean;
  trace: RawTrace[];
  /** the lab's first shell (LabSpec.shell) is being started: collect it with labShell, once */
  shellPending?: PendingShell;
}
/** A first shell being started: the socket its answer comes on, and a pidfd of the helper (both the callee's to close). */
export interface PendingShell {
  sock: number;
  helper: number;
}
/** How a lab's first shell went: a failed one leaves the lab as it is (the server starts one itself). */
export type FirstShell =
  | { ok: true; pid: number; pidfd: number; master: number; listener?: number; trace: RawTrace[] }
  | { ok: false; step: string; errno: number; detail: string; trace: RawTrace[] };
export async function labCreate(spec: LabSpec): Promise<LabCreated> {
  const { rc, json } = await callJsonAsync(native().labCreate, labSpecText(spec));
  return check(rc, json) as unknown as LabCreated;
}
/**
 * Starts the next lab's helper now, on the thread pool, and moves it into that lab's cgroups
 * (`cgroupProcs`, the spec's cgroupProcs; on v1 each move is a slow global lock): it waits for
 * its spec until the next labCreate with this init and these cgroups takes it, which then need
 * not wait for either. False if it could not be started (the lab starts one itself).
 */
export function prepareLabHelper(initFd: number, cgroupProcs: readonly string[]): Promise<boolean> {
  const list = cgroupProcs.filter((p) => path.isAbsolute(p) && !p.includes("\n") && !p.includes("\0")).join("\n");
  return new Promise((resolve) => native().labPrepare.async(initFd, list, (err: unknown, rc: number) => resolve(!err && rc === 0)));
}
/** Lets the helper started ahead for this init go (it exits without doing anything). */
export function unprepareLabHelper(initFd: number): void {
  native().labUnprepare(initFd);
}

/** A lab's first shell, once the helper that made the lab has started it (or failed to). */
export async function labShell(p: PendingShell): Promise<FirstShell> {
  const { rc, json } = await callJsonAsync(native().labShell, p.sock, p.helper);
  if (rc !== 0 || typeof json.ok !== "boolean") return { ok: false, step: String(json.step ?? "native"), errno: Number(json.errno ?? -rc), detail: String(json.detail ?? ""), trace: [] };
  return json as unknown as FirstShell;
}

export interface Spawned {
  pid: number;
  pidfd: number;
  master?: number;
  stdout?: number;
  stderr?: number;
  trace: RawTrace[];
  /** tracing: the seccomp listener of the process's filter (hand it to syscalls.watch) */
  listener?: number;
}
export async function spawn(spec: SpawnSpec): Promise<Spawned> {
  const { rc, json } = await callJsonAsync(native().spawn, spawnSpecText(spec));
  return check(rc, json) as unknown as Spawned;
}

export function monitorStart(): number {
  const fd = native().monitorStart();
  if (fd < 0) throw new Error(`nslab: exit monitor failed to start: ${errnoName(-fd)}`);
  return fd;
}
export function monitorWatch(pidfd: number): void {
  const rc = native().monitorWatch(pidfd);
  if (rc < 0) throw new Error(`nslab: cannot watch pidfd ${pidfd}: ${errnoName(-rc)}`);
}
/** Sends a signal through a pidfd; returns false if the process is gone. */
export function signal(pidfd: number, sig: number): boolean {
  return native().signal(pidfd, sig) === 0;
}
export function setWinsize(fd: number, rows: number, cols: number): boolean {
  return native().setWinsize(fd, rows, cols) === 0;
}
export function closeFd(fd: number): void {
  if (fd >= 0) native().close(fd);
}
/** Starts the thread that answers learners' traced calls (native/src/tracer.c); the read end of its record pipe. */
export function tracerStart(): number {
  const fd = native().tracerStart();
  if (fd < 0) throw new Error(`nslab: the syscall tracer failed to start: ${errnoName(-fd)}`);
  return fd;
}
export function tracerWatch(listener: number, tag: number): void {
  const rc = native().tracerWatch(listener, tag);
  if (rc < 0) throw new Error(`nslab: cannot watch seccomp listener ${listener}: ${errnoName(-rc)}`);
}

export function sealedCopy(file: string): number {
  const fd = native().sealedCopy(file);
  if (fd < 0) throw new Error(`nslab: cannot make a sealed copy of ${file}: ${errnoName(-fd)}`);
  return fd;
}

export interface NsInfo {
  ino: number;
  type: string;
  parent: number | null;
  owner: number | null;
  ownerUid?: number;
}
export function nsInfo(file: string): NsInfo | null {
  const { rc, json } = callJson((b, n) => native().nsInfo(file, b, n));
  return rc === 0 && json.ok ? (json as unknown as NsInfo) : null;
}

export function features(): Record<string, boolean> {
  const { json } = callJson((b, n) => native().features(b, n));
  const { ok: _ok, ...rest } = json;
  return rest as Record<string, boolean>;
}
