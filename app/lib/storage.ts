/**
 * localStorage with JSON, failure tolerance (private mode, quota) and change notification within
 * the page (the `storage` event covers other tabs), so hooks can subscribe to keys.
 */
type Listener = () => void;
const listeners = new Map<string, Set<Listener>>();
const cache = new Map<string, { raw: string | null; value: unknown }>();

export function readJson<T>(key: string): T | null {
  let raw: string | null = null;
  try {
    raw = localStorage.getItem(key);
  } catch {
    return null;
  }
  const hit = cache.get(key);
  if (hit && hit.raw === raw) return hit.value as T | null; // stable identity for useSyncExternalStore
  let value: unknown = null;
  try {
    value = raw === null ? null : JSON.parse(raw);
  } catch {
    value = null;
  }
  cache.set(key, { raw, value });
  return value as T | null;
}

export function writeJson(key: string, value: unknown): void {
  try {
    if (value === null || value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or unavailable: the UI still works for this page view */
  }
  notify(key);
}

function notify(key: string): void {
  for (const l of listeners.get(key) ?? []) l();
}

export function subscribeKey(key: string, cb: Listener): () => void {
  let set = listeners.get(key);
  if (!set) listeners.set(key, (set = new Set()));
  set.add(cb);
  const onStorage = (e: StorageEvent) => {
    if (e.key === key || e.key === null) cb();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    set.delete(cb);
    window.removeEventListener("storage", onStorage);
  };
}
