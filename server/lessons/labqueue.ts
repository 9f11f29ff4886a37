import "server-only";

/**
 * One script at a time per lab, with a short queue: a client clicking Check repeatedly (or a
 * hostile one looping) must not start unbounded processes in a lab or on the host.
 */

export const MAX_WAITING = 2;

export class LabBusyError extends Error {
  constructor() {
    super("This lab is still running earlier checks. Try again in a moment.");
  }
}

interface Queue {
  tail: Promise<unknown>;
  size: number; // running + waiting
}

const queues = new WeakMap<object, Queue>();

/** Scripts of this lab running or waiting (what a test waits for before it fills the queue). */
export function queued(lab: object): number {
  return queues.get(lab)?.size ?? 0;
}

/** Runs fn after the lab's earlier scripts; throws LabBusyError when too many already wait. */
export function serialize<T>(lab: object, fn: () => Promise<T>): Promise<T> {
  let q = queues.get(lab);
  if (!q) queues.set(lab, (q = { tail: Promise.resolve(), size: 0 }));
  if (q.size > MAX_WAITING) return Promise.reject(new LabBusyError());
  q.size++;
  const queue = q;
  const run = queue.tail.then(fn, fn);
  queue.tail = run.then(
    () => queue.size--,
    () => queue.size--,
  );
  return run;
}
