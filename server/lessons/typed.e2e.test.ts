/**
 * Run what learners type. For every lesson, in a fresh lab made for it (its setup ran), every
 * `run` block of every step is typed, as written, into the terminal the block names, through the
 * terminal WebSocket the page uses, and the step's check (POST /api/labs/:id/check, as the Check
 * button sends it) must then pass in every language of the lesson. The solution scripts are
 * verified separately (lessons.e2e.test.ts); this is about the text.
 *
 * - The blocks come from the rendered lesson, exactly what the page's Run button types
 *   (LessonHtml.tsx: the code's text, newlines as Enter, one Enter at the end); a lesson's
 *   translations must show the same blocks, so typing them once covers every language.
 * - A block is done when its terminal is back at an interactive shell waiting for a key: the
 *   terminal's foreground process group (tpgid in /proc/<shell>/stat) is led by bash or sh,
 *   sleeping until fd 0 has input (pselect6 or read: the kernel's state, not a guess from the
 *   output; it blocks only when everything typed has been read), once the terminal has echoed
 *   the block (before that, the typed bytes may still be on their way through the pty). Input typed
 *   while a terminal runs a `keeps-running` command waits in the tty, as it would for a learner.
 * - A `keeps-running` block (docs/lessons.md: a server, `sleep infinity`), or one that the next
 *   block for its terminal interrupts (Ctrl-C), is done once it is running: a new foreground
 *   process group whose processes all sleep (S, or zombies), seen five polls in a row.
 * - A step that asks for an answer: the answer is what the learner reads on the screen; the test
 *   takes it from the step's solution (these solutions only print) and requires that the typed
 *   blocks showed it, then sends it with the check.
 * - Steps run in order in one lab per lesson, as a learner goes through a lesson (a step often
 *   starts by leaving the shell the step before opened). Lessons run three at a time.
 *
 * NSLAB_E2E_LESSONS (comma-separated ids) runs only those lessons. Needs root.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import type { CheckResponse } from "../../lib/protocol.ts";
import type { Lang } from "../../lib/languages.ts";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";
import { LessonLibrary } from "./library.ts";
import { testConfig } from "../testing/instance.ts";

const catalog = new LessonLibrary(testConfig().lessonsDir);

interface Block {
  text: string;
  terminal: number;
  interrupt: boolean;
  keepsRunning: boolean;
}

const ENTITY: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** The run blocks of a rendered step, as the page reads them (pre.textContent, trailing newlines cut). */
export function runBlocks(html: string): Block[] {
  const out: Block[] = [];
  for (const m of html.matchAll(/<pre data-nslab-code data-kind="run"([^>]*)><code[^>]*>([\s\S]*?)<\/code><\/pre>/g)) {
    const attrs = m[1]!;
    const text = m[2]!.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITY[e]!).replace(/\n+$/, "");
    out.push({
      text,
      terminal: Number(/data-terminal="(\d+)"/.exec(attrs)?.[1] ?? 1),
      interrupt: attrs.includes('data-interrupt="true"'),
      keepsRunning: attrs.includes('data-keeps-running="true"'),
    });
  }
  return out;
}

/** The block typed after block `i` of step `stepId` into the same terminal, in this or a later step. */
function nextIn(steps: { id: string; blocks: Block[] }[], stepId: string, i: number): Block | undefined {
  const k = steps.findIndex((st) => st.id === stepId);
  const b = steps[k]!.blocks[i]!;
  const later = [...steps[k]!.blocks.slice(i + 1), ...steps.slice(k + 1).flatMap((st) => st.blocks)];
  return later.find((x) => x.terminal === b.terminal);
}

// ---- the kernel's view of a terminal -------------------------------------------------------

interface Stat {
  comm: string;
  state: string;
  pgrp: number;
  tpgid: number;
}

function stat(pid: number): Stat | null {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const close = s.lastIndexOf(")");
  const f = s.slice(close + 2).split(" ");
  return { comm: s.slice(s.indexOf("(") + 1, close), state: f[0]!, pgrp: Number(f[2]), tpgid: Number(f[5]) };
}

// readline waits for a key in pselect6(1, {0}, ...) (bash 5), or read(0, ...)
const READ = process.arch === "arm64" ? 63 : 0;
const PSELECT6 = process.arch === "arm64" ? 72 : 270;
const SHELLS = new Set(["bash", "sh"]);

/** The process group in the terminal's foreground (host pids), from its first shell. */
function foreground(shellPid: number): number {
  const st = stat(shellPid);
  if (!st) throw new Error(`the terminal's shell (pid ${shellPid}) is gone`);
  return st.tpgid;
}

/** A shell leads the foreground group and sleeps in read(0, ...): it waits for a key. */
function atPrompt(shellPid: number): boolean {
  const fg = foreground(shellPid);
  const leader = stat(fg);
  if (!leader || !SHELLS.has(leader.comm) || leader.state !== "S") return false;
  try {
    const [nr, arg0] = fs.readFileSync(`/proc/${fg}/syscall`, "utf8").split(" ").map(Number);
    return (nr === READ && arg0 === 0) || (nr === PSELECT6 && arg0 === 1);
  } catch {
    return false;
  }
}

/** Every process of group `pgrp` (host pids of the lab) sleeps or is a zombie. */
function allAsleep(pgrp: number, pids: number[]): boolean {
  let n = 0;
  for (const pid of pids) {
    const st = stat(pid);
    if (!st || st.pgrp !== pgrp) continue;
    n++;
    if (st.state !== "S" && st.state !== "Z") return false;
  }
  return n > 0;
}

/**
 * Every line of `text` (its last 40 characters) shows in `out`, in order: the terminal echoed it,
 * so the bytes were read (by readline, or by the tty's line discipline while a command ran).
 * Until then a shell can still look idle: a pty delivers what the master writes a moment later.
 */
function echoed(out: string, text: string): boolean {
  let at = 0;
  for (const line of text.split("\n")) {
    const tail = line.trimEnd().slice(-40);
    if (!tail.trim()) continue;
    const i = out.indexOf(tail, at);
    if (i < 0) return false;
    at = i + tail.length;
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: () => string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(50);
  }
}

/** Terminal output as a person reads it: no escape sequences, no carriage returns. */
function readable(s: string): string {
  return s
    .replace(/\x1b\][^\x07]*\x07/g, "")
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b[()][0-9A-B]/g, "")
    .replace(/\r/g, "");
}

// ---- the walk -----------------------------------------------------------------------------------

/** generous: lesson 11 copies binaries, lesson 10 fills a cgroup's memory, all under CI load */
const BLOCK_MS = 240_000;
const ECHO_MS = 15_000;

let s: Awaited<ReturnType<typeof testServer>>;

class LessonWalk {
  private terms = new Map<number, { client: TermClient; pid: number; running: number | null }>();
  private log: string[] = [];

  constructor(
    private readonly lab: { id: string; token: string; hostname: string },
    private readonly lesson: string,
  ) {}

  private get handle() {
    return s.mgr.get(this.lab.id)!;
  }

  async terminal(n: number) {
    let t = this.terms.get(n);
    if (t) return t;
    const client = new TermClient(s.url, this.lab as never, "&cols=400&rows=50");
    await client.opened;
    await client.until((c) => !!c.ready, "the terminal's ready message", 60_000);
    const pid = s.terminals.of(this.handle).get(client.ready!.terminal)!.pid;
    t = { client, pid, running: null };
    this.terms.set(n, t);
    await until(() => atPrompt(pid), () => `terminal ${n}'s first prompt${this.tail()}`, BLOCK_MS);
    return t;
  }

  /**
   * Types one block as the Run button does, and waits until it is done (see the file's comment).
   * `stopped`: the lesson's next block for this terminal interrupts it (Ctrl-C), so it runs until then.
   */
  async type(b: Block, stopped = false): Promise<string> {
    const t = await this.terminal(b.terminal);
    const start = t.client.output.length;
    const before = foreground(t.pid);
    this.log.push(`[terminal ${b.terminal}${b.keepsRunning ? ", keeps running" : ""}] ${b.text}`);
    if (b.interrupt) {
      const at = t.client.output.length;
      t.client.send("\x03");
      await until(() => t.client.output.includes("^C", at), () => `the echo of Ctrl-C in terminal ${b.terminal}${this.tail()}`, BLOCK_MS);
      await until(() => atPrompt(t.pid), () => `terminal ${b.terminal}'s prompt after Ctrl-C${this.tail()}`, BLOCK_MS);
      t.running = null;
    }
    const typed = t.client.output.length;
    t.client.send(b.text.replace(/\r?\n/g, "\r").replace(/\r+$/, "") + "\r");
    // (a shell that starts after another was killed in the middle of reading a line inherits the
    // tty without echo, and shows nothing of what is typed: then new output is all there is to see)
    const echo = Date.now() + ECHO_MS;
    await until(
      () => echoed(readable(t.client.output.slice(typed)), b.text) || (Date.now() > echo && t.client.output.length > typed),
      () => `the echo of "${b.text}" in terminal ${b.terminal}${this.tail()}`,
      BLOCK_MS,
    );
    if (b.keepsRunning || stopped) {
      let seen = 0;
      let last = -1;
      await until(
        async () => {
          const fg = foreground(t.pid);
          const ok = fg !== before && fg !== t.running && !atPrompt(t.pid) && allAsleep(fg, await this.handle.hostPids());
          seen = ok && fg === last ? seen + 1 : ok ? 1 : 0;
          last = fg;
          return seen >= 5;
        },
        () => `"${b.text}" to be running in terminal ${b.terminal}${this.tail()}`,
        BLOCK_MS,
      );
      t.running = foreground(t.pid);
    } else if (t.running === null) {
      await until(() => atPrompt(t.pid), () => `the end of "${b.text}" in terminal ${b.terminal}${this.tail()}`, BLOCK_MS);
    }
    // else: typed ahead while a keeps-running command holds the terminal; the shell reads it later
    return t.client.output.slice(start);
  }

  /** Every terminal is at a prompt, or (after a keeps-running block) still runs that command. */
  async settled() {
    for (const [n, t] of this.terms) {
      if (t.running !== null && foreground(t.pid) === t.running) continue;
      t.running = null;
      await until(() => atPrompt(t.pid), () => `terminal ${n} to be back at a prompt${this.tail()}`, BLOCK_MS);
    }
  }

  tail(): string {
    const screens = [...this.terms].map(([n, t]) => `--- terminal ${n} (last lines):\n${readable(t.client.output).split("\n").slice(-25).join("\n")}`);
    return `\n--- typed:\n${this.log.slice(-12).join("\n")}\n${screens.join("\n")}`;
  }

  close() {
    for (const t of this.terms.values()) t.client.close();
  }
}

if (process.getuid?.() !== 0) {
  test("what learners type", () => {
    assert.fail("typing the lessons needs real labs (namespaces, cgroups, uid ranges): run npm test as root, as CI does");
  });
} else {
  before(async () => {
    s = await testServer({ NSLAB_LABS_PER_CLIENT: "100", NSLAB_LABS_PER_MINUTE: "1000", NSLAB_MAX_LABS: "16" });
  });
  after(async () => {
    await s?.close();
  });

  const only = process.env.NSLAB_E2E_LESSONS?.split(",").filter(Boolean);
  describe("what learners type, lesson by lesson", { concurrency: 3 }, () => {
    for (const meta of catalog.list().filter((m) => !only || only.includes(m.id))) {
      test(`lesson ${meta.id}: each step's run blocks, typed in order, make its check pass (${meta.languages.join(", ")})`, async (t) => {
        const langs: Lang[] = meta.languages;
        const en = catalog.get(meta.id, "en")!;
        const intro = runBlocks(en.introHtml);
        const steps = en.steps.map((st) => ({ id: st.id, blocks: runBlocks(st.html), answer: st.answerHtml !== undefined }));
        // every translation shows the same commands: what is typed here is what every learner types
        for (const lang of langs.filter((l) => l !== "en")) {
          const tr = catalog.get(meta.id, lang)!;
          assert.equal(tr.lang, lang);
          assert.deepEqual(runBlocks(tr.introHtml), intro, `${lang}: the introduction's run blocks differ from English`);
          for (const [i, st] of tr.steps.entries()) assert.deepEqual(runBlocks(st.html), steps[i]!.blocks, `${lang}: step ${st.id}'s run blocks differ from English`);
        }
        assert.ok(steps.some((st) => st.blocks.length > 0), "the lesson has run blocks");

        const lab = await createLab(s.url, { lesson: meta.id });
        const walk = new LessonWalk(lab, meta.id);
        try {
          await walk.terminal(1);
          for (const [i, b] of intro.entries()) await walk.type(b, intro.slice(i + 1).find((x) => x.terminal === b.terminal)?.interrupt === true);
          for (const st of steps) {
            let shown = "";
            for (const [i, b] of st.blocks.entries()) shown += readable(await walk.type(b, nextIn(steps, st.id, i)?.interrupt === true));
            await walk.settled();
            let answer: string | undefined;
            if (st.answer) {
              // these solutions only print the value the learner reads (checked: no solution of an answer step changes the lab)
              const sol = await api(s.url, "POST", `/api/labs/${lab.id}/solve`, lab.token, { lesson: meta.id, step: st.id });
              answer = String(sol.json.output ?? "").trim().split("\n").at(-1)?.trim();
              assert.ok(answer, `step ${st.id}: its solution printed no answer`);
              assert.ok(shown.includes(answer), `step ${st.id}: the typed commands never showed the answer "${answer}"${walk.tail()}`);
            }
            for (const lang of langs) {
              const r = await api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, { lesson: meta.id, step: st.id, lang, ...(answer !== undefined ? { answer } : {}) });
              assert.equal(r.status, 200, JSON.stringify(r.json));
              const c = r.json as CheckResponse;
              assert.ok(c.passed, `step ${st.id} (${lang}): the check fails after typing the step's run blocks: "${c.feedback}"${walk.tail()}`);
            }
            t.diagnostic(`${st.id}: ${st.blocks.length} blocks typed, check passed (${langs.join(", ")})`);
          }
        } finally {
          walk.close();
          await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token);
        }
      });
    }
  });
}
