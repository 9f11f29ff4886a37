"use client";
import { useCallback, useSyncExternalStore } from "react";
import { readJson, subscribeKey, writeJson } from "./storage";

/** A learner's progress in one lesson, kept in this browser. */
export interface Progress {
  passed: string[]; // step ids
  total: number; // steps in the lesson when last seen
}

const key = (lesson: string) => `nslab:progress:${lesson}`;

export function readProgress(lesson: string): Progress | null {
  const p = readJson<Progress>(key(lesson));
  return p && Array.isArray(p.passed) ? p : null;
}

export function markPassed(lesson: string, step: string, total: number): void {
  const p = readProgress(lesson) ?? { passed: [], total };
  if (p.passed.includes(step) && p.total === total) return;
  writeJson(key(lesson), { passed: p.passed.includes(step) ? p.passed : [...p.passed, step], total });
}

export function resetProgress(lesson: string): void {
  writeJson(key(lesson), null);
}

/** Progress of a lesson: null when there is none, undefined on the server and before hydration. */
export function useProgress(lesson: string): Progress | null | undefined {
  const subscribe = useCallback((cb: () => void) => subscribeKey(key(lesson), cb), [lesson]);
  return useSyncExternalStore<Progress | null | undefined>(subscribe, () => readProgress(lesson), () => undefined);
}
