// Drives the web map in headless Chromium (DevTools protocol, no other dependency) and checks
// what a user sees: the search opens the parcel asked for (a non-convex one, whose box centre
// lies in a neighbour), the English switch redraws the open panel (and the map's zoning labels),
// and a parcel cut by a tile edge shows its number once. Screenshots go to OUT_DIR. Exit status 0 when every check holds.
// Usage: node --experimental-websocket Tools/viewer-check.mjs BASE_URL [OUT_DIR]
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.argv[2] || "http://127.0.0.1:8080";
const out = process.argv[3] || "Docs/screenshots";
mkdirSync(out, { recursive: true });
const port = 19000 + Math.floor(Math.random() * 1000);
const chrome = spawn("chromium", ["--headless=new", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
  "--hide-scrollbars", "--window-size=1280,800", `--remote-debugging-port=${port}`, `--user-data-dir=${mkdtempSync(join(tmpdir(), "lm-chrome-"))}`, "about:blank"],
  { stdio: "ignore" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (ok, what) => { console.log(`${ok ? "ok  " : "FAIL"} ${what}`); if (!ok) failures++; };

try {
  let targets;
  for (let i = 0; i < 60 && !targets; i++) {
    try { targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json(); } catch { await sleep(500); }
  }
  const page = targets.find((t) => t.type === "page");
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => { const msg = JSON.parse(m.data); if (pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); } };
  const send = (method, params = {}) => new Promise((r) => { pending.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
  const evaluate = async (expression) => {
    const r = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.result?.exceptionDetails) throw new Error(r.result.exceptionDetails.exception?.description || expression);
    return r.result?.result?.value;
  };
  const waitFor = async (expression, ms = 120000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) { if (await evaluate(expression)) return true; }
    return false;
  };
  const shot = async (name) => {
    const r = await send("Page.captureScreenshot", { format: "png" });
    writeFileSync(join(out, name), Buffer.from(r.result.data, "base64"));
    console.log(`screenshot: ${join(out, name)}`);
  };
  const idle = `new Promise((r) => { const m = window.landmapMap; if (m.loaded() && m.areTilesLoaded()) r(true); else m.once("idle", () => r(true)); })`;

  await send("Page.enable");
  await send("Page.navigate", { url: `${base}/#17/10.7312/106.7500` });
  check(await waitFor(`document.body && document.body.dataset.ready === "1"`), "the viewer loads");

  // 1. Search a non-convex parcel: its box centre answers 27484-114-166.
  const want = "27484-15-51";
  await evaluate(`(() => { const f = document.getElementById("search");
    f.ward.value = "27484"; f.sheet.value = "15"; f.number.value = "51"; f.requestSubmit(); return true; })()`);
  await waitFor(`document.getElementById("answer").dataset.parcel !== undefined || !!document.querySelector("#answer .error")`);
  const opened = await evaluate(`document.getElementById("answer").dataset.parcel`);
  check(opened === want, `search 27484/15/51 opens ${want} (opened: ${opened})`);
  check((await evaluate(`document.querySelector("#answer h2").textContent`)) === `Thửa đất ${want}`, "the panel is in Vietnamese");
  await evaluate(idle);
  await shot("viewer-search-vi.png");

  // 2. The English switch redraws the open panel and the form.
  await evaluate(`document.getElementById("lang").click(), true`);
  const h2 = await evaluate(`document.querySelector("#answer h2").textContent`);
  const rows = await evaluate(`[...document.querySelectorAll("#answer td:first-child")].map((td) => td.textContent).join("|")`);
  check(h2 === `Parcel ${want}` && rows.includes("Map sheet") && rows.includes("Parcel number"), `after EN the panel reads "${h2}" (${rows.slice(0, 60)}…)`);
  check((await evaluate(`document.querySelector("#search [name=ward]").placeholder`)) === "Ward code (27484)", "after EN the form is in English");
  const zoneText = await evaluate(`JSON.stringify(window.landmapMap.getLayoutProperty("zoning-label", "text-field"))`);
  check(zoneText.includes(" floors") && !zoneText.includes("tầng"), "after EN the map's zoning labels say floors, not tầng");
  await shot("viewer-search-en.png");

  // 3. A parcel cut by the edge of z18 tiles shows its number once.
  const edge = "27484-1-2";
  await evaluate(`window.landmapMap.jumpTo({ center: [106.75004, 10.73123], zoom: 19.2 }), true`);
  await evaluate(idle);
  await sleep(1000);
  const labels = await evaluate(`window.landmapMap.queryRenderedFeatures({ layers: ["parcels-label"] }).map((f) => f.properties.id)`);
  const twice = labels.filter((x, i) => labels.indexOf(x) !== i);
  check(labels.filter((x) => x === edge).length === 1, `${edge} (across a tile edge) labelled once; ${labels.length} labels shown, ${twice.length} repeated`);
  // What labelling the polygons' pieces did before (the style's old source layer), for comparison.
  const pieces = await evaluate(`(async () => { const m = window.landmapMap;
    m.addLayer({ id: "old-label", type: "symbol", source: "landmap", "source-layer": "parcels",
                 layout: { "text-field": ["to-string", ["get", "number"]], "text-font": ["Noto Sans Regular"], "text-size": 11, "text-allow-overlap": true } });
    await new Promise((r) => m.once("idle", r));
    const n = m.queryRenderedFeatures({ layers: ["old-label"] }).filter((f) => f.properties.id === "${edge}").length;
    m.removeLayer("old-label"); return n; })()`);
  console.log(`info labels placed on polygon pieces (before the fix) would show ${edge} ${pieces} times`);
  await evaluate(idle);
  await shot("viewer-labels.png");
  ws.close();
} catch (e) {
  check(false, String(e));
} finally {
  chrome.kill();
}
process.exit(failures ? 1 : 0);
