// SPEC §12: the web map works under LandMap's Content-Security-Policy. Loads the HTML pages in
// headless Chromium — the web map (its tiles drawn, a parcel found by the search and its panel
// opened, the English switch and a layer's ⓘ), /api.html, the open-data catalog (its language
// button), f=html pages — and fails on any CSP violation: `securitypolicyviolation` events
// (listened for before the page's scripts run), console and log entries and exceptions naming
// the Content Security Policy, requests Chromium blocked for CSP, in the page and in MapLibre's
// workers. Also checks every page's response carries the policy, nosniff, Referrer-Policy and
// X-Frame-Options. With --basemap ORIGIN (the server started with --basemap-url
// ORIGIN/{z}/{x}/{y}.png), serves that basemap here and checks its tiles load in the map.
// Talks to Chromium over --remote-debugging-pipe: plain Node (18 or newer), no flag, no package.
// Usage: node Tools/csp-check.mjs BASE_URL [--basemap http://127.0.0.1:PORT]
// Exit status 0 when every check holds, 1 otherwise.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const at = args.indexOf("--basemap");
const basemap = at >= 0 ? args[at + 1] : null;
const base = (args.filter((_, i) => i !== at && i !== at + 1)[0] || "http://127.0.0.1:8080").replace(/\/$/, "");
let failures = 0;
const check = (ok, what) => { console.log(`${ok ? "ok  " : "FAIL"} ${what}`); if (!ok) failures++; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A page that never settles fails the check instead of hanging CI.
setTimeout(() => { console.log("FAIL the check did not finish within 3 minutes"); chrome.kill(); process.exit(1); }, 180000).unref();

// A basemap on another origin: every tile is one grey 1×1 PNG.
let tileServer = null, tilesServed = 0;
if (basemap) {
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4c+YMAATMAmU5mmUsAAAAAElFTkSuQmCC", "base64");
  tileServer = createServer((req, res) => {
    tilesServed++;
    res.writeHead(200, { "Content-Type": "image/png", "Access-Control-Allow-Origin": "*", "Cache-Control": "no-store" });
    res.end(png);
  });
  const url = new URL(basemap);
  await new Promise((r) => tileServer.listen(Number(url.port), url.hostname, r));
}

const profile = mkdtempSync(join(tmpdir(), "lm-csp-chrome-"));
const chrome = spawn("chromium", ["--headless=new", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
  "--hide-scrollbars", "--window-size=1280,800", "--remote-debugging-pipe", `--user-data-dir=${profile}`, "about:blank"],
  { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
const toChrome = chrome.stdio[3], fromChrome = chrome.stdio[4];

// The DevTools protocol over the pipe: JSON messages ended by a NUL byte.
let id = 0, buffered = "";
const pending = new Map();
const violations = [];  // every sign of a CSP violation, with where it was seen
let page = "";          // the page being checked, for the messages
const responses = [];   // { url, type } of the responses the page and its workers got
const mentionsCSP = (s) => /content security policy|content-security-policy/i.test(String(s || ""));
function onMessage(msg) {
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); return; }
  const p = msg.params || {};
  switch (msg.method) {
    case "Target.attachedToTarget":
      // MapLibre's workers (and any other) report their violations on their own session.
      for (const domain of ["Runtime", "Log", "Network"]) send(`${domain}.enable`, {}, p.sessionId);
      send("Runtime.runIfWaitingForDebugger", {}, p.sessionId);
      break;
    case "Log.entryAdded":
      if (mentionsCSP(p.entry.text)) violations.push(`${page}: log: ${p.entry.text}`);
      break;
    case "Runtime.consoleAPICalled": {
      const text = p.args.map((a) => a.value ?? a.description).join(" ");
      if (mentionsCSP(text)) violations.push(`${page}: console: ${text}`);
      break;
    }
    case "Runtime.exceptionThrown": {
      const d = p.exceptionDetails;
      const text = d.exception?.description || d.text;
      if (mentionsCSP(text) || /EvalError/.test(text)) violations.push(`${page}: exception: ${text}`);
      break;
    }
    case "Network.loadingFailed":
      if (p.blockedReason === "csp") violations.push(`${page}: request blocked by CSP (${p.errorText})`);
      break;
    case "Network.responseReceived":
      responses.push({ url: p.response.url, status: p.response.status });
      break;
  }
}
fromChrome.on("data", (chunk) => {
  buffered += chunk.toString("utf8");
  let end;
  while ((end = buffered.indexOf("\0")) >= 0) {
    const text = buffered.slice(0, end);
    buffered = buffered.slice(end + 1);
    onMessage(JSON.parse(text));
  }
});
function send(method, params = {}, sessionId) {
  return new Promise((resolve) => {
    pending.set(++id, resolve);
    toChrome.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
  });
}

// What the page records before its own scripts run: each securitypolicyviolation event.
const recorder = `window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
    \`\${e.effectiveDirective} refused \${e.blockedURI || "inline"} at \${e.sourceFile || "?"}:\${e.lineNumber} \${e.sample || ""}\`), true);`;

try {
  let target;
  for (let i = 0; i < 50 && !target; i++) {
    target = (await send("Target.getTargets")).result?.targetInfos?.find((t) => t.type === "page");
    if (!target) await sleep(200);
  }
  const { result: { sessionId } } = await send("Target.attachToTarget", { targetId: target.targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  const evaluate = async (expression) => {
    const r = await Promise.race([s("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }),
      sleep(60000).then(() => { throw new Error(`no answer within 60 s: ${expression.slice(0, 80)}`); })]);
    if (r.result?.exceptionDetails) throw new Error(r.result.exceptionDetails.exception?.description || expression);
    return r.result?.result?.value;
  };
  const waitFor = async (expression, ms = 60000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) { if (await evaluate(expression)) return true; }
    return false;
  };
  for (const domain of ["Page", "Runtime", "Log", "Network"]) await s(`${domain}.enable`);
  await s("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
  await s("Page.addScriptToEvaluateOnNewDocument", { source: recorder });

  // The headers, as any client gets them.
  const headersOf = async (path) => {
    const r = await fetch(`${base}${path}`, { headers: { Accept: "text/html,application/xhtml+xml" } });
    await r.arrayBuffer();
    const csp = r.headers.get("content-security-policy") || "";
    check(r.ok && /^text\/html/.test(r.headers.get("content-type") || "") && /default-src 'self'/.test(csp) && /script-src 'self'(;|$)/.test(csp)
      && !/unsafe-inline|unsafe-eval/.test(csp) && /frame-ancestors 'none'/.test(csp) && (!basemap || csp.includes(`img-src 'self' data: blob: ${basemap}`))
      && r.headers.get("x-content-type-options") === "nosniff" && !!r.headers.get("referrer-policy") && r.headers.get("x-frame-options") === "DENY",
      `${path}: ${r.status}, CSP "${csp}", nosniff, Referrer-Policy ${r.headers.get("referrer-policy")}, X-Frame-Options ${r.headers.get("x-frame-options")}`);
  };
  const open = async (path) => {
    page = path;
    await s("Page.navigate", { url: `${base}${path}` });
    return waitFor(`document.readyState === "complete" && Array.isArray(window.__csp)`, 30000);
  };
  // The violations this page recorded, and those seen by the protocol since it opened.
  const before = () => violations.length;
  const settle = async (path, from) => {
    await sleep(300);  // reports are queued: let them arrive
    const events = (await evaluate(`window.__csp || []`)) || [];
    const found = [...events.map((e) => `${path}: securitypolicyviolation: ${e}`), ...violations.slice(from)];
    check(found.length === 0, `${path}: no CSP violation${found.length ? `: ${found.slice(0, 5).join(" | ")}` : ""}`);
  };

  // 1. The web map: tiles drawn, a parcel opened from the search, English, a layer's ⓘ.
  await headersOf("/");
  let from = before();
  check(await open("/#17/10.7312/106.7500"), "/ loads");
  check(await waitFor(`document.body.dataset.ready === "1"`), "the web map's style loads (MapLibre's worker runs)");
  const idle = `new Promise((r) => { const m = window.landmapMap; if (m.loaded() && m.areTilesLoaded()) r(true); else m.once("idle", () => r(true)); })`;
  await evaluate(idle);
  const drawn = await evaluate(`window.landmapMap.queryRenderedFeatures().filter((f) => f.sourceLayer === "parcels").length`);
  check(drawn > 0, `the map drew parcel tiles (${drawn} parcel features rendered)`);
  const want = "27484-15-51";
  await evaluate(`(() => { const f = document.getElementById("search"); f.ward.value = "27484"; f.sheet.value = "15"; f.number.value = "51"; f.requestSubmit(); return true; })()`);
  await waitFor(`!!document.getElementById("answer").dataset.parcel || !!document.querySelector("#answer .error")`, 30000);
  check((await evaluate(`document.getElementById("answer").dataset.parcel`)) === want, `the search opens parcel ${want}'s panel`);
  const bars = await evaluate(`[...document.querySelectorAll("#answer .share")].map((el) => el.getBoundingClientRect().width)`);
  check(bars.length === 0 || bars.some((w) => w > 0), `the zoning share bars have their width without a style attribute (${bars.map(Math.round).join(", ")} px)`);
  await evaluate(`document.getElementById("lang").click(), true`);
  check((await evaluate(`document.querySelector("#answer h2").textContent`)) === `Parcel ${want}`, "the English switch redraws the panel");
  await evaluate(`document.querySelector('#layers .layer[data-layer="parcels"] .info-button')?.click(), true`);
  check(await waitFor(`!!document.querySelector('#layers .layer[data-layer="parcels"] .layer-info:not([hidden])')`, 10000), "a layer's ⓘ opens its description");
  await evaluate(`window.landmapMap.jumpTo({ center: [106.75004, 10.73123], zoom: 18.5 }), true`);
  await evaluate(idle);
  if (basemap) {
    const fromBasemap = responses.filter((r) => r.url.startsWith(basemap) && r.status === 200).length;
    check(tilesServed > 0 && fromBasemap > 0, `the basemap on ${basemap} is drawn: ${tilesServed} tiles served, ${fromBasemap} loaded by the map`);
  }
  await settle("/", from);

  // 2. The other HTML pages.
  for (const path of ["/api.html", "/?f=html", "/collections?f=html", "/collections/parcels/items?f=html&limit=2", `/collections/parcels/items/${want}?f=html`,
                      "/catalog?f=html", "/catalog/datasets/parcels?f=html"]) {
    await headersOf(path);
    from = before();
    check(await open(path), `${path} loads`);
    if (path.startsWith("/catalog")) {
      // The language button is a script of its own (catalog.js): it must run.
      await evaluate(`document.getElementById("lang").click(), true`);
      check((await evaluate(`document.documentElement.lang`)) === "en" && (await evaluate(`getComputedStyle(document.querySelector('span[lang="vi"]')).display`)) === "none",
        `${path}: the EN button shows the page in English (its script and style sheet ran)`);
    }
    await settle(path, from);
  }
} catch (e) {
  check(false, String(e && e.stack || e));
} finally {
  chrome.kill();
  if (tileServer) tileServer.close();
  await sleep(200);
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
