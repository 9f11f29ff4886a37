import "server-only";
import type { Config } from "./config.ts";
import { LearnerInference } from "./inspect/learner-infer.ts";
import { ExplorerHub } from "./inspect/watch.ts";
import { LabManager } from "./labs/manager.ts";
import { LessonLibrary } from "./lessons/library.ts";
import { LessonRunner } from "./lessons/runner.ts";
import { SHELL, Terminals } from "./terminals/lab-terminals.ts";

/**
 * The domain services of one server, wired from one Config: the lab core, each lab's terminals,
 * the lessons (and what runs their scripts in labs) and the explorer's watches. The HTTP server (server.ts) puts its
 * adapters on top; the lesson verifier (scripts/verify-lessons.ts) uses them without it.
 * Whatever one domain does for another is handed in here, as hooks, not imported.
 */
export interface Services {
  config: Config;
  mgr: LabManager;
  terminals: Terminals;
  lessons: LessonLibrary;
  runner: LessonRunner;
  hub: ExplorerHub;
  /** Stops every watch and destroys every lab. */
  close(): Promise<void>;
}

export async function startServices(config: Config): Promise<Services> {
  const lessons = new LessonLibrary(config.lessonsDir, { reload: config.dev });
  const runner = new LessonRunner(lessons, { timeScale: config.scriptTimeScale });
  const terminals = new Terminals({
    maxPerLab: config.terminalsPerLab,
    scrollbackBytes: config.scrollbackBytes,
    graceMs: config.graceMs,
    inputBytesPerSec: config.inputBytesPerSec,
    inputBurstBytes: config.inputBurstBytes,
  });
  const inference = new LearnerInference();
  const mgr = await LabManager.start(config, {
    // a pooled lab waits with a shell at its first prompt; the shell's grace starts when handed out
    warm: (lab) => terminals.of(lab).open(80, 24),
    handedOut: (lab) => terminals.of(lab).restartGrace(),
    prestart: (lab) => terminals.of(lab).prestart(80, 24),
    firstShell: { argv: SHELL, cols: 80, rows: 24 },
    assignLesson: (lab, lesson) => runner.runSetup(lab, lesson),
    // what the learner's namespace calls did, from the lab's state a moment later
    learnerCall: (lab, scope, call) => inference.push(lab, scope, call),
  });
  // the explorer labels each process with its terminal: by the shells the terminals started
  const hub = new ExplorerHub({ shellsOf: (lab) => terminals.shells(lab) });
  return {
    config,
    mgr,
    terminals,
    lessons,
    runner,
    hub,
    async close() {
      hub.close();
      await mgr.shutdown();
    },
  };
}
