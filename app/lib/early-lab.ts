/**
 * The lab request of a lesson page, started by an inline script in the page's HTML while the
 * page's JavaScript is still downloading (issue 14, "a prompt within a second"): the lab is ready
 * in milliseconds, but without this its request would wait for ~200 KB of JavaScript to load and
 * hydrate. The script sends exactly the request useLab would send first (the stored lab's status,
 * or POST /api/labs for the lesson, with the workshop code if one is stored) and leaves the
 * pending response on `window`; api.ts takes it, once, when useLab makes that same request, and
 * handles it like any other answer (queue, rate limit, access code, lab ended).
 *
 * On a first visit (no stored lab, no workshop code) the script does not POST: it opens the
 * socket that makes its lab (NEW_LAB_SOCKET), whose first message is exactly POST's answer (the
 * script turns it into the Response useLab takes), and which then is the lab's first terminal:
 * the lab and its prompt in one round trip instead of a POST and then a socket (issue 9's cold
 * lab; a learner 100 ms away saves 100 ms). If that socket cannot be had (a cluster's web replica
 * has none, a cap refuses it) the script POSTs as before. What arrives after the answer (the
 * server's hello, the shell's prompt) is kept until the page's first new terminal takes the open
 * socket over (takeEarlyTerminal): the shell starts while React hydrates and xterm.js loads,
 * instead of after. With a workshop code stored, the script POSTs with it and then opens the
 * lab's first terminal socket itself. A socket nobody takes within a minute is closed (its shell
 * ends after the server's grace period, as for any closed tab).
 *
 * Server pages render the script (earlyLabScript); the browser side is takeEarly and
 * takeEarlyTerminal. A page reached by client-side navigation does not run the script, and useLab
 * and the terminal simply ask themselves.
 */
import { NEW_LAB_SOCKET } from "@/lib/protocol";
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

/**
 * The inline script for a lesson page (plain ES5, no dependency; any failure leaves useLab to ask).
 * `newLabSocket` false: the site has no NEW_LAB_SOCKET (a cluster's web replica): POST at once.
 */
export function earlyLabScript(lesson: string, o: { newLabSocket: boolean } = { newLabSocket: true }): string {
  const js = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");
  return `(function(){try{var s=JSON.parse(localStorage.getItem(${js(labKey(lesson))})||"null"),c=JSON.parse(localStorage.getItem(${js(CODE_KEY)})||"null"),h={accept:"application/json"},e,W=window.WebSocket,P=(location.protocol==="https:"?"wss://":"ws://")+location.host;function u(t){t.timer=setTimeout(function(){if(window.${TERMINAL}===t){window.${TERMINAL}=undefined;t.ws.close()}},${UNTAKEN_MS});window.${TERMINAL}=t}if(s&&typeof s.id==="string"&&typeof s.token==="string"){h.authorization="Bearer "+s.token;e={method:"GET",path:"/api/labs/"+encodeURIComponent(s.id),body:null,token:s.token}}else{var b={lesson:${js(lesson)}};if(typeof c==="string"&&c)b.code=c;h["content-type"]="application/json";e={method:"POST",path:"/api/labs",body:JSON.stringify(b),token:null}}var F=function(){return fetch(e.path,{method:e.method,headers:h,body:e.body,cache:"no-store"})};if(${o.newLabSocket ? "1" : "0"}&&e.method==="POST"&&!b.code&&W&&window.Response){var w=new W(P+${js(NEW_LAB_SOCKET)}+"?lesson="+encodeURIComponent(b.lesson)+"&cols=80&rows=24"),t={lab:"",ws:w,queue:[]},d=0;w.binaryType="arraybuffer";e.res=new Promise(function(ok){function f(){if(!d){d=1;ok(F())}}w.onmessage=function(m){if(d){t.queue.push(m);return}var a=null;try{a=JSON.parse(m.data)}catch(x){}if(!a||a.type!=="lab"){w.close();f();return}d=1;var g={"content-type":"application/json"};if(a.retryAfter)g["retry-after"]=a.retryAfter;ok(new Response(JSON.stringify(a.body),{status:a.status,headers:g}));if(a.status===201&&a.body&&typeof a.body.id==="string"){t.lab=a.body.id;u(t)}};w.onerror=w.onclose=f})}else e.res=F();e.res.catch(function(){});window.${GLOBAL}=e;if(e.method==="POST"&&!t)e.res.then(function(r){return r.status===201?r.clone().json():null}).then(function(l){if(!l||typeof l.id!=="string"||typeof l.token!=="string"||!W)return;var w=new W(P+"/api/labs/"+encodeURIComponent(l.id)+"/terminals?token="+encodeURIComponent(l.token)+"&cols=80&rows=24"),t={lab:l.id,ws:w,queue:[]};w.binaryType="arraybuffer";w.onmessage=function(m){t.queue.push(m)};u(t)}).catch(function(){})}catch(x){}})()`;
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
