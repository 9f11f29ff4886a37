"use client";
import { useCallback, useSyncExternalStore } from "react";
import { readJson, subscribeKey, writeJson } from "./storage";

/** A learner's progress in one lesson, kept in this browser. */
export interface Progress {
  passed: string[]; // step ids
  total: number; // steps in the lesson when last seen
}

/** `scope` keeps a class's progress apart from self-paced progress (`class:<id>`). */
const key = (lesson: string, scope?: string) => (scope ? `nslab:${scope}:progress:${lesson}` : `nslab:progress:${lesson}`);

export function readProgress(lesson: string, scope?: string): Progress | null {
  const p = readJson<Progress>(key(lesson, scope));
  return p && Array.isArray(p.passed) ? p : null;
}

export function markPassed(lesson: string, step: string, total: number, scope?: string): void {
  const p = readProgress(lesson, scope) ?? { passed: [], total };
  if (p.passed.includes(step) && p.total === total) return;
  writeJson(key(lesson, scope), { passed: p.passed.includes(step) ? p.passed : [...p.passed, step], total });
}

export function resetProgress(lesson: string, scope?: string): void {
  writeJson(key(lesson, scope), null);
}

/** Progress of a lesson: null when there is none, undefined on the server and before hydration. */
export function useProgress(lesson: string, scope?: string): Progress | null | undefined {
  const subscribe = useCallback((cb: () => void) => subscribeKey(key(lesson, scope), cb), [lesson, scope]);
  return useSyncExternalStore<Progress | null | undefined>(subscribe, () => readProgress(lesson, scope), () => undefined);
}
