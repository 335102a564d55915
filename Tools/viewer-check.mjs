// Drives the web map in headless Chromium (DevTools protocol, no other dependency) and checks
// what a user sees: the search opens the parcel asked for (a non-convex one, whose box centre
// lies in a neighbour), the English switch redraws the open panel (and the map's zoning labels),
// and a parcel cut by a tile edge shows its number once. Stewardship (SPEC §8): anonymous, the
// token control shows without errors and no pending panel; a layer's ⓘ shows its licence; signed
// in with a steward token, the token goes on the viewer's and MapLibre's requests, the parcel
// panel shows the owner, a contributor's proposal is listed, drawn before/after over the map,
// rejected and approved from the panel (the approved edit is then written back as it was).
// Screenshots go to OUT_DIR. Exit status 0 when every check holds.
// Usage: node --experimental-websocket Tools/viewer-check.mjs BASE_URL [OUT_DIR]
// The steward and contributor tokens come from $LANDMAP_STEWARD_TOKEN and
// $LANDMAP_CONTRIBUTOR_TOKEN, or are made with `landmap token create` against the server's
// database ($LANDMAP_DB, else landmap.gpkg, as `landmap serve` finds it; the binary is
// $LANDMAP_BIN, else the newer of .build/release/landmap and .build/debug/landmap, else landmap on the PATH).
// Runs against `landmap serve` (or `make run`) as it is, rate limit on: one viewer session asks a
// few hundred requests at most, far below the anonymous default of 6000 a minute.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, existsSync, statSync } from "node:fs";
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
const http = (path, token, options = {}) => fetch(`${base}${path}`, { ...options, headers: { ...(options.headers || {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
const made = [];  // the keys of the tokens made here, revoked at the end
function landmap(args) {
  const built = [".build/release/landmap", ".build/debug/landmap"].filter((b) => existsSync(b)).sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs);
  const bin = process.env.LANDMAP_BIN || built[0] || "landmap";  // the newer build
  if (process.env.LANDMAP_DB) args.push("--db", process.env.LANDMAP_DB);
  return execFileSync(bin, args, { encoding: "utf8" });
}
function makeToken(role, unit, layers) {
  const made1 = JSON.parse(landmap(["token", "create", "--json", "--role", role, "--name", `viewer-check-${role}`, ...(unit ? ["--unit", unit] : []), ...(layers ? ["--layers", layers] : [])]));
  made.push(made1.key);
  return made1.token;
}
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
  const errors = [];     // exceptions and console errors in the page
  const requests = [];   // { url, auth } of every request the page makes
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
    if (msg.method === "Runtime.exceptionThrown") errors.push(msg.params.exceptionDetails.exception?.description || msg.params.exceptionDetails.text);
    if (msg.method === "Runtime.consoleAPICalled" && msg.params.type === "error") errors.push(msg.params.args.map((a) => a.value ?? a.description).join(" "));
    // SPEC §12: what the Content-Security-Policy refuses (signed in too) is an error of the page.
    if (msg.method === "Log.entryAdded" && /content security policy/i.test(msg.params.entry.text)) errors.push(msg.params.entry.text);
    // MapLibre's workers fetch the tiles: their requests are watched too (auto-attach below).
    if (msg.method === "Target.attachedToTarget" && msg.params.targetInfo.type === "worker") ws.send(JSON.stringify({ id: ++id, sessionId: msg.params.sessionId, method: "Network.enable", params: {} }));
    if (msg.method === "Network.requestWillBeSent") requests.push({ url: msg.params.request.url, auth: Object.keys(msg.params.request.headers).some((h) => h.toLowerCase() === "authorization") });
  };
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
  await send("Runtime.enable");
  await send("Network.enable");
  await send("Log.enable");
  await send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
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

  // 4. Anonymous: the token control, no errors, no pending panel, no token kept.
  check(await evaluate(`!!document.querySelector("#auth input[name=token]") && !!document.querySelector("#auth button[type=submit]")`), "anonymous: the token control is shown");
  check(await evaluate(`document.getElementById("pending").hidden && !document.querySelector("#pending li")`), "anonymous: no pending changes panel");
  check(!requests.some((r) => r.url.includes("/changes")), "anonymous: the viewer asks nothing of /changes");
  check(errors.length === 0, `anonymous: no errors in the page (${errors.slice(0, 3).join(" | ")})`);

  // 5. A layer's ⓘ shows its metadata, the licence linked.
  const parcelsMeta = await (await http("/collections/parcels")).json();
  const licenceLink = (parcelsMeta.links || []).find((l) => l.rel === "license");
  await evaluate(`document.querySelector('#layers .layer[data-layer="parcels"] .info-button').click(), true`);
  const info = await evaluate(`(() => { const el = document.querySelector('#layers .layer[data-layer="parcels"] .layer-info');
    const a = el && el.querySelector("a[href*='spdx'], a[target]"); return el && !el.hidden ? { text: el.textContent, href: a ? a.href : "", title: document.querySelector('#layers .layer[data-layer="parcels"] .layer-title').textContent } : null; })()`);
  const m = parcelsMeta.metadata || {};
  check(info && info.text.includes(m.licence) && info.href === licenceLink?.href && info.text.includes(m.steward) && info.text.includes(m.contact),
    `the parcels ⓘ shows licence ${m.licence} linked to ${licenceLink?.href}, steward ${m.steward} and contact (${info ? info.text.slice(0, 80) : "nothing"}…)`);
  check(info && info.title === (m.title_en || m.title), `the layer list (in English) titles parcels "${info?.title}"`);

  // 6. Sign in as a steward of parcels; a contributor proposes a change.
  const steward = process.env.LANDMAP_STEWARD_TOKEN || makeToken("steward", m.steward, "parcels");
  const contributor = process.env.LANDMAP_CONTRIBUTOR_TOKEN || makeToken("contributor", "viewer-check");
  const original = await (await http(`/collections/parcels/items/${want}`, steward)).json();
  delete original.links;
  const propose = async (address) => {
    const edited = JSON.parse(JSON.stringify(original));
    edited.properties.address = address;
    const r = await http(`/collections/parcels/items/${want}`, contributor, { method: "PUT", headers: { "Content-Type": "application/geo+json" }, body: JSON.stringify(edited) });
    if (r.status !== 202) throw new Error(`the contributor's proposal was answered ${r.status}: ${await r.text()}`);
    return (await r.json()).id;
  };
  const approveId = await propose(`${original.properties.address} <b>(viewer-check)</b>`);
  const rejectId = await propose(`${original.properties.address} (viewer-check, to reject)`);
  requests.length = 0;
  await evaluate(`(() => { const f = document.getElementById("auth"); f.token.value = ${JSON.stringify(steward)}; f.requestSubmit(); return true; })()`);
  check(await waitFor(`!!document.querySelector('#pending button.change[data-change="${approveId}"]') && !!document.querySelector('#pending button.change[data-change="${rejectId}"]')`, 30000),
    `signed in as a steward, the pending list shows proposals ${approveId} and ${rejectId}`);
  check(await evaluate(`sessionStorage.getItem("landmap.token") === ${JSON.stringify(steward)} && localStorage.length === 0 && !location.href.includes(${JSON.stringify(steward)})`),
    "the token is kept in sessionStorage only (not localStorage, not the URL)");
  await waitFor(`document.body.dataset.ready === "1" && window.landmapMap.isStyleLoaded()`, 30000);
  await evaluate(idle);
  const sent = (re) => requests.filter((r) => re.test(r.url));
  const styleReqs = sent(/\/styles\/landmap\.json/), tileJSON = sent(/\/tiles\/[^/]+\.json/), tiles = sent(/\.mvt/);
  check(styleReqs.length > 0 && styleReqs.every((r) => r.auth) && tileJSON.length > 0 && tileJSON.every((r) => r.auth) && tiles.length > 0 && tiles.every((r) => r.auth),
    `signed in, the style (${styleReqs.length}), TileJSON (${tileJSON.length}) and tiles (${tiles.length}) are asked for with Authorization`);
  check(await waitFor(`[...document.querySelectorAll("#answer td:first-child")].some((td) => td.textContent === "Owner")`, 15000), "signed in, the parcel panel shows the owner");

  // 7. Selecting a proposal draws it before/after over the map.
  await evaluate(`document.querySelector('#pending button.change[data-change="${approveId}"]').click(), true`);
  const drawn = await waitFor(`(() => { const m = window.landmapMap; return !!(m.getSource("review-before") && m.getSource("review-after") && m.getLayer("review-before-line") && m.getLayer("review-after-fill")); })()`, 15000);
  check(drawn, `selecting proposal ${approveId} adds the review-before and review-after sources and layers`);
  check(await evaluate(`document.querySelector("#review").textContent.includes("(viewer-check)") && !document.querySelector("#review b")`), "the proposal's new address is shown, escaped");
  await evaluate(`new Promise((r) => window.landmapMap.once("idle", () => r(true)))`);
  await shot("viewer-review.png");

  // 8. Reject one (with a reason), approve the other: each leaves the list.
  await evaluate(`document.querySelector('#pending button.change[data-change="${rejectId}"]').click(), true`);
  await waitFor(`document.querySelector("#review")?.dataset.change === "${rejectId}"`, 5000);
  await evaluate(`window.prompt = () => "viewer-check: not needed", document.querySelector("#review button.reject").click(), true`);
  check(await waitFor(`!document.querySelector('#pending button.change[data-change="${rejectId}"]')`, 15000), `reject removes proposal ${rejectId} from the list`);
  const rejected = await (await http(`/changes/${rejectId}`, steward)).json();
  check(rejected.status === "rejected" && rejected.reason === "viewer-check: not needed", `the server has ${rejectId} ${rejected.status} with the reason given`);
  await evaluate(`document.querySelector('#pending button.change[data-change="${approveId}"]').click(), true`);
  await waitFor(`document.querySelector("#review")?.dataset.change === "${approveId}"`, 5000);
  await evaluate(`document.querySelector("#review button.approve").click(), true`);
  check(await waitFor(`!document.querySelector('#pending button.change[data-change="${approveId}"]') && !window.landmapMap.getSource("review-after")`, 15000),
    `approve removes proposal ${approveId} from the list and its overlay from the map`);
  const approved = await (await http(`/changes/${approveId}`, steward)).json();
  const now = await (await http(`/collections/parcels/items/${want}`)).json();
  check(approved.status === "approved" && now.properties.address.endsWith("(viewer-check)</b>"), `the server has ${approveId} ${approved.status} and the parcel's address changed`);
  // Put the parcel back as it was (a steward writes directly).
  const back = await http(`/collections/parcels/items/${want}`, steward, { method: "PUT", headers: { "Content-Type": "application/geo+json" }, body: JSON.stringify(original) });
  check(back.ok, `the parcel's address written back (${back.status})`);

  // 9. Sign out: the token is gone, the pending panel and the owner with it.
  await evaluate(`document.getElementById("sign-out").click(), true`);
  check(await waitFor(`sessionStorage.getItem("landmap.token") === null && document.getElementById("pending").hidden && !!document.querySelector("#auth input[name=token]")`, 10000),
    "sign-out clears the token and hides the pending panel");
  check(await waitFor(`!!document.querySelector("#answer h2") && ![...document.querySelectorAll("#answer td:first-child")].some((td) => td.textContent === "Owner")`, 15000),
    "signed out, the parcel panel shows no owner");
  // A token the server refuses is said so and never kept.
  await evaluate(`(() => { const f = document.getElementById("auth"); f.token.value = "lm_000000000000_not-a-token"; f.requestSubmit(); return true; })()`);
  check(await waitFor(`!!document.querySelector("#auth .error") && sessionStorage.getItem("landmap.token") === null`, 10000), "a refused token is reported and not kept");
  check(errors.length === 0, `no errors in the page (${errors.slice(0, 3).join(" | ")})`);
  ws.close();
} catch (e) {
  check(false, String(e));
} finally {
  chrome.kill();
  for (const key of made) { try { landmap(["token", "revoke", key]); } catch (e) { console.log(`info could not revoke token ${key}: ${e.message}`); } }
}
process.exit(failures ? 1 : 0);
