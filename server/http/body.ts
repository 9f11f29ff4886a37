import "server-only";
import { HttpError } from "./errors.ts";

/**
 * The one check of a JSON request body's shape: an object with no fields but `fields`. Values are
 * the caller's to check. `example` ends the messages (`{"lesson": ..., "step": ...}`).
 */
export function jsonObject(body: unknown, fields: readonly string[], example?: { shape: string; only: string }): Record<string, unknown> {
  const bad = (m: string) => new HttpError(400, "bad_request", m);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad(`Send a JSON object${example ? ` ${example.shape}` : ""}.`);
  for (const k of Object.keys(body)) if (!fields.includes(k)) throw bad(`Unknown field "${k.slice(0, 40)}"${example ? `; send ${example.only} only` : ""}.`);
  return body as Record<string, unknown>;
}
