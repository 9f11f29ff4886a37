/**
 * The lab request of a lesson page, started by an inline script in the page's HTML while the
 * page's JavaScript is still downloading (issue 14, "a prompt within a second"): the lab is ready
 * in milliseconds, but without this its request would wait for ~200 KB of JavaScript to load and
 * hydrate. The script sends exactly the request useLab would send first (the stored lab's status,
 * or POST /api/labs for the lesson, with the workshop code if one is stored) and leaves the
 * pending response on `window`; api.ts takes it, once, when useLab makes that same request, and
 * handles it like any other answer (queue, rate limit, access code, lab ended).
 *
 * When that request made a new lab (first visit), the script also opens the lab's first terminal
 * socket at once, keeping what arrives (the server's hello, the shell's prompt) until the page's
 * first new terminal takes the open socket over (takeEarlyTerminal): the shell starts while React
 * hydrates and xterm.js loads, instead of after. A socket nobody takes within a minute is closed
 * (its shell ends after the server's grace period, as for any closed tab).
 *
 * Server pages render the script (earlyLabScript); the browser side is takeEarly and
 * takeEarlyTerminal. A page reached by client-side navigation does not run the script, and useLab
 * and the terminal simply ask themselves.
 */
import type { SocketLike } from "./reconnecting-socket";

/** Where the browser keeps its lab for a lesson (useLab) and a workshop's access code (admission.ts). */
export const labKey = (lesson: string) => `nslab:lab:${lesson}`;
export const CODE_KEY = "nslab:access-code";

const GLOBAL = "__nslabEarlyLab";
const TERMINAL = "__nslabEarlyTerminal";
/** How long an early terminal socket waits to be taken before the script closes it. */
const UNTAKEN_MS = 60_000;

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
  return `(function(){try{var s=JSON.parse(localStorage.getItem(${js(labKey(lesson))})||"null"),c=JSON.parse(localStorage.getItem(${js(CODE_KEY)})||"null"),h={accept:"application/json"},e;if(s&&typeof s.id==="string"&&typeof s.token==="string"){h.authorization="Bearer "+s.token;e={method:"GET",path:"/api/labs/"+encodeURIComponent(s.id),body:null,token:s.token}}else{var b={lesson:${js(lesson)}};if(typeof c==="string"&&c)b.code=c;h["content-type"]="application/json";e={method:"POST",path:"/api/labs",body:JSON.stringify(b),token:null}}e.res=fetch(e.path,{method:e.method,headers:h,body:e.body,cache:"no-store"});e.res.catch(function(){});window.${GLOBAL}=e;if(e.method==="POST")e.res.then(function(r){return r.status===201?r.clone().json():null}).then(function(l){if(!l||typeof l.id!=="string"||typeof l.token!=="string"||!window.WebSocket)return;var w=new WebSocket((location.protocol==="https:"?"wss://":"ws://")+location.host+"/api/labs/"+encodeURIComponent(l.id)+"/terminals?token="+encodeURIComponent(l.token)+"&cols=80&rows=24"),t={lab:l.id,ws:w,queue:[]};w.binaryType="arraybuffer";w.onmessage=function(m){t.queue.push(m)};t.timer=setTimeout(function(){if(window.${TERMINAL}===t){window.${TERMINAL}=undefined;w.close()}},${UNTAKEN_MS});window.${TERMINAL}=t}).catch(function(){})}catch(x){}})()`;
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

interface EarlyTerminal {
  lab: string;
  ws: WebSocket;
  queue: MessageEvent[];
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The terminal socket the page's script opened for this lab, if it is still open and nobody took
 * it yet, as a SocketLike that first delivers what arrived before it was taken, in order. Taken once.
 */
export function takeEarlyTerminal(labId: string): SocketLike | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as Record<string, EarlyTerminal | undefined>;
  const e = w[TERMINAL];
  if (!e || e.lab !== labId) return null;
  w[TERMINAL] = undefined;
  clearTimeout(e.timer);
  if (e.ws.readyState !== WebSocket.OPEN && e.ws.readyState !== WebSocket.CONNECTING) return null;
  return adopt(e.ws, e.queue);
}

function adopt(ws: WebSocket, queue: MessageEvent[]): SocketLike {
  let onmessage: SocketLike["onmessage"] = null;
  return {
    get readyState() {
      return ws.readyState;
    },
    get binaryType() {
      return ws.binaryType;
    },
    set binaryType(v: string) {
      ws.binaryType = v as BinaryType;
    },
    get onopen() {
      return ws.onopen as SocketLike["onopen"];
    },
    set onopen(f: SocketLike["onopen"]) {
      ws.onopen = f;
    },
    get onclose() {
      return ws.onclose as SocketLike["onclose"];
    },
    set onclose(f: SocketLike["onclose"]) {
      ws.onclose = f;
    },
    get onerror() {
      return ws.onerror as SocketLike["onerror"];
    },
    set onerror(f: SocketLike["onerror"]) {
      ws.onerror = f;
    },
    get onmessage() {
      return onmessage;
    },
    // the queued messages first, then the live ones: no socket event can run before this
    // microtask, so the order is kept
    set onmessage(f: SocketLike["onmessage"]) {
      onmessage = f;
      queueMicrotask(() => {
        for (const m of queue.splice(0)) onmessage?.(m);
        ws.onmessage = (m) => onmessage?.(m);
      });
    },
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
}
