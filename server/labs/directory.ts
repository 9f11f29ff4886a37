import "server-only";
import type { Lab } from "./lab.ts";

/**
 * Where the LabManager keeps the labs it runs, by id. In memory here, and that is all one server
 * needs; it is an interface so that a deployment with several servers (issue 15: a web tier in
 * front of lab agents) can put the shared part (which lab is where, its token's hash, its owner)
 * in a store such as Redis or PostgreSQL, while each agent keeps its live Lab objects.
 */
export interface LabDirectory {
  add(lab: Lab): void;
  get(id: string): Lab | undefined;
  remove(id: string): void;
  all(): Lab[];
  readonly size: number;
}

export class MemoryLabDirectory implements LabDirectory {
  private readonly byId = new Map<string, Lab>();

  add(lab: Lab): void {
    this.byId.set(lab.id, lab);
  }
  get(id: string): Lab | undefined {
    return this.byId.get(id);
  }
  remove(id: string): void {
    this.byId.delete(id);
  }
  all(): Lab[] {
    return [...this.byId.values()];
  }
  get size(): number {
    return this.byId.size;
  }
}
