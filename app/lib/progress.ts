"use client";
import { useCallback, useSyncExternalStore } from "react";
import { readJson, subscribeKey, writeJson } from "./storage";

/** A learner's progress in one lesson, kept in this browser. */
export interface Progress {
  passed: string[]; // step ids
  total: number; // steps in the lesson when last seen
  /** what each passed step's check said, so a reload shows the same words */
  feedback?: Record<string, string>;
  /** the lab the steps were last passed in: another lab does not hold what they built */
  lab?: string;
}

/** `scope` keeps a class's progress apart from self-paced progress (`class:<id>`). */
const key = (lesson: string, scope?: string) => (scope ? `nslab:${scope}:progress:${lesson}` : `nslab:progress:${lesson}`);
const FEEDBACK_MAX = 300;

export function readProgress(lesson: string, scope?: string): Progress | null {
  const p = readJson<Progress>(key(lesson, scope));
  return p && Array.isArray(p.passed) ? p : null;
}

export function markPassed(lesson: string, step: string, total: number, o: { scope?: string; feedback?: string | null; lab?: string | null } = {}): void {
  const p = readProgress(lesson, o.scope) ?? { passed: [], total };
  const feedback = { ...(p.feedback ?? {}) };
  if (o.feedback) feedback[step] = o.feedback.slice(0, FEEDBACK_MAX);
  const lab = o.lab ?? p.lab;
  const next: Progress = {
    passed: p.passed.includes(step) ? p.passed : [...p.passed, step],
    total,
    ...(Object.keys(feedback).length ? { feedback } : {}),
    ...(lab ? { lab } : {}),
  };
  if (JSON.stringify(next) !== JSON.stringify(p)) writeJson(key(lesson, o.scope), next);
}

/** The passed steps now hold in `lab` (it was rebuilt to them). */
export function markLab(lesson: string, lab: string, scope?: string): void {
  const p = readProgress(lesson, scope);
  if (p && p.lab !== lab) writeJson(key(lesson, scope), { ...p, lab });
}

export function resetProgress(lesson: string, scope?: string): void {
  writeJson(key(lesson, scope), null);
}

/** Progress of a lesson: null when there is none, undefined on the server and before hydration. */
export function useProgress(lesson: string, scope?: string): Progress | null | undefined {
  const subscribe = useCallback((cb: () => void) => subscribeKey(key(lesson, scope), cb), [lesson, scope]);
  return useSyncExternalStore<Progress | null | undefined>(subscribe, () => readProgress(lesson, scope), () => undefined);
}
