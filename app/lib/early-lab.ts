/**
 * The lab request of a lesson page, started by an inline script in the page's HTML while the
 * page's JavaScript is still downloading (issue 14, "a prompt within a second"): the lab is ready
 * in milliseconds, but without this its request would wait for ~200 KB of JavaScript to load and
 * hydrate. The script sends exactly the request useLab would send first (the stored lab's status,
 * or POST /api/labs for the lesson, with the workshop code if one is stored) and leaves the
 * pending response on `window`; api.ts takes it, once, when useLab makes that same request, and
 * handles it like any other answer (queue, rate limit, access code, lab ended).
 *
 * Server pages render the script (earlyLabScript); the browser side is takeEarly. A page reached by
 * client-side navigation does not run the script, and useLab simply asks itself.
 */
/** Where the browser keeps its lab for a lesson (useLab) and a workshop's access code (admission.ts). */
export const labKey = (lesson: string) => `nslab:lab:${lesson}`;
export const CODE_KEY = "nslab:access-code";

const GLOBAL = "__nslabEarlyLab";

interface Early {
  method: string;
  path: string;
  body: string | null;
  token: string | null;
  res: Promise<Response>;
}

/** The inline script for a lesson page (plain ES5, no dependency; any failure leaves useLab to ask). */
export function earlyLabScript(lesson: string): string {
  const js = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");
  return `(function(){try{var s=JSON.parse(localStorage.getItem(${js(labKey(lesson))})||"null"),c=JSON.parse(localStorage.getItem(${js(CODE_KEY)})||"null"),h={accept:"application/json"},e;if(s&&typeof s.id==="string"&&typeof s.token==="string"){h.authorization="Bearer "+s.token;e={method:"GET",path:"/api/labs/"+encodeURIComponent(s.id),body:null,token:s.token}}else{var b={lesson:${js(lesson)}};if(typeof c==="string"&&c)b.code=c;h["content-type"]="application/json";e={method:"POST",path:"/api/labs",body:JSON.stringify(b),token:null}}e.res=fetch(e.path,{method:e.method,headers:h,body:e.body,cache:"no-store"});e.res.catch(function(){});window.${GLOBAL}=e}catch(x){}})()`;
}

/**
 * The early response for this exact request, if the page's script made it and nobody took it yet.
 * Taken once: a second identical request (a reset, a retry) goes to the network.
 */
export function takeEarly(method: string, path: string, body: string | null, token: string | null): Promise<Response> | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as Record<string, Early | undefined>;
  const e = w[GLOBAL];
  if (!e || e.method !== method || e.path !== path || e.body !== body || e.token !== token) return null;
  w[GLOBAL] = undefined;
  return e.res;
}
