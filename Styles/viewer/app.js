// LandMap viewer: MapLibre GL JS served by LandMap itself (no CDN), a click asks /parcels/at.
(function () {
  "use strict";
  const text = {
    vi: { title: "Thửa đất và quy hoạch", openData: "Dữ liệu mở", layers: "Lớp bản đồ", parcels: "Thửa đất", zoning: "Quy hoạch", admin: "Phường/xã",
          search: "Tìm thửa", find: "Tìm", findAny: "Địa chỉ, thửa (27484-56-1), phường cũ và mới…", beforeReform: "Trước 1/7/2025", district: "Quận/huyện",
          nothingFound: "Không tìm thấy", hint: "Bấm vào bản đồ để xem thửa đất, quy hoạch và phường.", parcel: "Thửa đất",
          sheet: "Tờ bản đồ", number: "Số thửa", ward: "Phường/xã", use: "Loại đất", area: "Diện tích tính toán", declared: "Diện tích pháp lý",
          address: "Địa chỉ", plan: "Quy hoạch", none: "Không có thửa đất tại điểm này", notFound: "Không tìm thấy thửa", floors: "tầng", coverage: "mật độ", basemap: "Bản đồ nền",
          wardCode: "Mã phường (27484)", sheetNo: "Số tờ", parcelNo: "Số thửa", page: "LandMap — Bản đồ thửa đất TP.HCM", elsewhere: "Điểm trong thửa {id} trả về thửa khác",
          owner: "Chủ sử dụng", owner_id: "Số giấy tờ chủ sử dụng", token: "Mã truy cập", signIn: "Đăng nhập", signOut: "Đăng xuất", tokenHint: "Dán mã truy cập (token)",
          signedIn: "Đã đăng nhập", badToken: "Mã truy cập bị từ chối", info: "Thông tin lớp", description: "Mô tả", steward: "Đơn vị chủ quản", access: "Quyền truy cập",
          licence: "Giấy phép", updateFrequency: "Tần suất cập nhật", contact: "Liên hệ", keywords: "Từ khóa", pending: "Thay đổi chờ duyệt", approve: "Duyệt", reject: "Từ chối",
          reason: "Lý do từ chối (người đề xuất sẽ đọc):", before: "Trước", after: "Sau", stale: "Dữ liệu đã thay đổi từ khi đề xuất", proposer: "Người đề xuất", created: "Ngày đề xuất",
          close: "Đóng", qa: "Kiểm tra chất lượng", create: "thêm", replace: "sửa", delete: "xóa",
          public: "công khai", internal: "nội bộ (người có mã truy cập)", restricted: "hạn chế (chỉ mã được cấp lớp này)",
          daily: "hằng ngày", weekly: "hằng tuần", monthly: "hằng tháng", quarterly: "hằng quý", annual: "hằng năm", irregular: "không định kỳ" },
    en: { title: "Parcels and zoning", openData: "Open data", layers: "Layers", parcels: "Parcels", zoning: "Zoning", admin: "Wards",
          search: "Find a parcel", find: "Find", findAny: "Address, parcel (27484-56-1), ward old or new…", beforeReform: "Before 1 July 2025", district: "District",
          nothingFound: "Nothing found", hint: "Click the map to see the parcel, its zoning and its ward.", parcel: "Parcel",
          sheet: "Map sheet", number: "Parcel number", ward: "Ward", use: "Land use", area: "Computed area", declared: "Declared area",
          address: "Address", plan: "Zoning", none: "No parcel at this point", notFound: "No such parcel", floors: "floors", coverage: "coverage", basemap: "Basemap",
          wardCode: "Ward code (27484)", sheetNo: "Sheet", parcelNo: "Parcel", page: "LandMap — Ho Chi Minh City parcels", elsewhere: "The point inside parcel {id} answered another parcel",
          owner: "Owner", owner_id: "Owner's id number", token: "Token", signIn: "Sign in", signOut: "Sign out", tokenHint: "Paste an access token",
          signedIn: "Signed in", badToken: "The token was refused", info: "About this layer", description: "Description", steward: "Steward", access: "Access",
          licence: "Licence", updateFrequency: "Updated", contact: "Contact", keywords: "Keywords", pending: "Pending changes", approve: "Approve", reject: "Reject",
          reason: "Why is it rejected (the proposer reads this)?", before: "Before", after: "After", stale: "The data changed since it was proposed", proposer: "Proposed by", created: "Proposed on",
          close: "Close", qa: "Quality checks", create: "create", replace: "replace", delete: "delete",
          public: "public", internal: "internal (token holders)", restricted: "restricted (tokens granted this layer)",
          daily: "daily", weekly: "weekly", monthly: "monthly", quarterly: "quarterly", annual: "annual", irregular: "irregular" },
  };
  let lang = "vi";
  const t = (k) => text[lang][k] || k;
  // What the answer panel shows, as a function of the language: a switch of language redraws it.
  let shown = null;
  function show(render) {
    shown = render;
    fillAnswer();
  }
  // The panel's HTML has no style attributes (the Content-Security-Policy refuses inline
  // styles): the zoning share bars get their width here, through the DOM.
  function fillAnswer() {
    const answer = document.getElementById("answer");
    answer.innerHTML = shown();
    answer.querySelectorAll(".share[data-width]").forEach((el) => { el.style.width = `${el.dataset.width}px`; });
  }
  function translate() {
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.getElementById("lang").textContent = lang === "vi" ? "EN" : "VI";
    document.documentElement.lang = lang;
    document.title = t("page");
    if (shown) fillAnswer();
    renderAuth();
    renderLayers();
    renderPending();
    if (map.isStyleLoaded()) translateMap();
  }

  // The words the style's labels are written with (Vietnamese), in the other language.
  const styleWords = { en: { " tầng": " floors", "MĐXD ": "coverage ", "cao ≤ ": "height ≤ " } };
  let styleText = null;  // each symbol layer's text-field as the style gives it
  function translateMap() {
    if (!styleText) {
      styleText = {};
      for (const l of map.getStyle().layers) if (l.type === "symbol" && l.layout && l.layout["text-field"]) styleText[l.id] = l.layout["text-field"];
    }
    const words = styleWords[lang] || {};
    const swap = (v) => (typeof v === "string" ? words[v] ?? v : Array.isArray(v) ? v.map(swap)
      : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)])) : v);
    for (const [id, field] of Object.entries(styleText)) map.setLayoutProperty(id, "text-field", swap(field));
  }
  const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const row = (k, v) => (v === undefined || v === null ? "" : `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`);

  // Links from the API are shown only when they are http(s).
  const safeHref = (h) => { try { const u = new URL(h, location.href); return /^https?:$/.test(u.protocol) ? u.href : ""; } catch { return ""; } };

  // Signing in: a token pasted by the user, kept for this tab only (sessionStorage, never
  // localStorage or the URL), sent as Authorization to LandMap itself and to nobody else (a
  // basemap on another host never sees it), on the viewer's fetches and on MapLibre's style,
  // TileJSON, tile and glyph requests (transformRequest).
  const tokenKey = "landmap.token";
  let token = sessionStorage.getItem(tokenKey) || "";
  let authError = "";
  const ours = (url) => { try { return new URL(url, location.href).origin === location.origin; } catch { return false; } };
  const authHeaders = (url) => (token && ours(url) ? { Authorization: `Bearer ${token}` } : {});
  async function api(url, options = {}) {
    const r = await fetch(url, { ...options, headers: { ...(options.headers || {}), ...authHeaders(url) } });
    if (r.status === 401 && token && ours(url)) { authError = t("badToken"); signOut(); }
    return r;
  }

  const params = new URLSearchParams(location.search);
  const map = new maplibregl.Map({
    container: "map",
    style: "/styles/landmap.json",
    transformRequest: (url) => ({ url, headers: authHeaders(url) }),
    center: [106.7483, 10.7348],
    zoom: 16,
    hash: true,
    attributionControl: { compact: true },
  });
  window.landmapMap = map;  // for scripted checks in a browser (Tools/viewer-check.mjs)
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl(), "bottom-left");
  let marker = null;
  let lastLookup = null;  // asked again when the user signs in or out: what it may see changes

  // The panel for the answer of /parcels/at; `expect` is the id of the parcel the search found,
  // asked about at its label point (inside it): any other answer is shown as an error, never
  // as that parcel.
  async function lookup(lon, lat, expect) {
    const answer = document.getElementById("answer");
    lastLookup = [lon, lat, expect];
    if (marker) marker.remove();
    marker = new maplibregl.Marker({ color: "#c0392b" }).setLngLat([lon, lat]).addTo(map);
    try {
      const r = await api(`/parcels/at?lon=${lon}&lat=${lat}`);
      const a = await r.json();
      if (!r.ok) throw new Error(a.detail || r.statusText);
      if (expect !== undefined && (!a.parcel || a.parcel.id !== expect)) {
        answer.dataset.parcel = "";
        show(() => `<p class="error">${esc(t("elsewhere").replace("{id}", expect))}</p>`);
        return;
      }
      show(() => panel(a));
      answer.dataset.parcel = a.parcel ? a.parcel.id : "";
    } catch (e) {
      show(() => `<p class="error">${esc(e.message)}</p>`);
    }
  }

  // The answer in the current language.
  function panel(a) {
    let html = "";
    if (a.parcel) {
      const p = a.parcel.properties;
      html += `<h2>${t("parcel")} ${esc(a.parcel.id)}</h2><table>` + row(t("sheet"), p.sheet) + row(t("number"), p.number) +
        row(t("use"), a.parcel_land_use ? `${p.land_use} — ${a.parcel_land_use[lang]}` : p.land_use) + row(t("area"), a.parcel_area_m2 ? a.parcel_area_m2.toFixed(1) + " m²" : undefined) +
        row(t("declared"), p.declared_area_m2 !== undefined ? p.declared_area_m2 + " m²" : undefined) + row(t("address"), p.address) +
        row(t("owner"), p.owner) + row(t("owner_id"), p.owner_id) + "</table>";  // only when the server sends them (a token that may)
    } else {
      html += `<h2>${t("none")}</h2>`;
    }
    if (a.zoning && a.zoning.length) {
      html += `<h2>${t("plan")}</h2><table>`;
      for (const z of a.zoning.filter((z) => z.share === null || z.share >= 0.0005)) {
        const share = z.share === null ? "" : `<span class="share" data-width="${Math.round(z.share * 80)}"></span> ${(z.share * 100).toFixed(1)} %`;
        const limits = [z.floors_max > 0 ? `≤ ${z.floors_max} ${t("floors")}` : "", z.density_max_pct ? `${t("coverage")} ≤ ${z.density_max_pct} %` : ""].filter(Boolean).join(", ");
        html += `<tr><td>${esc(z.land_use || "?")} <small>${esc(z.zone_code || z.id)}</small></td><td>${share} ${esc(limits)}</td></tr>`;
      }
      html += "</table>";
    }
    if (a.admin) html += `<h2>${t("ward")}</h2><table>` + row(a.admin.code, a.admin.full_name || a.admin.name) + "</table>";
    // SPEC §10: the ward and district of 30 June 2025, which older papers name.
    const old = a.admin_before_reform;
    if (old && (old.ward || old.district)) {
      html += `<h2>${t("beforeReform")}</h2><table>` + (old.ward ? row(`${t("ward")} ${old.ward.code}`, old.ward.full_name || old.ward.name) : "") +
        (old.district ? row(`${t("district")} ${old.district.code}`, old.district.full_name || old.district.name) : "") + "</table>";
    }
    return html;
  }

  map.on("click", (e) => lookup(e.lngLat.lng.toFixed(7), e.lngLat.lat.toFixed(7)));
  // Each style (the first, and again after signing in or out: the style leaves out what the
  // caller may not read): labels in the current language, the layer list, the review overlay.
  map.on("style.load", () => {
    styleText = null;
    translateMap();
    loadLayers();
    drawReview();
  });
  function reloadStyle() { map.setStyle("/styles/landmap.json", { diff: false }); }

  map.on("load", () => {
    // ?at=lon,lat opens the map with that point asked about (shareable links, screenshots).
    const at = params.get("at");
    if (at) {
      const [lon, lat] = at.split(",").map(Number);
      if (isFinite(lon) && isFinite(lat)) { map.jumpTo({ center: [lon, lat], zoom: 18 }); lookup(lon, lat); }
    }
    document.body.dataset.ready = "1";
  });

  // The layer list: one row per group of the style's layers (the basemap only when the server
  // has one), titled from /collections/{layer}.metadata in the current language, with an ⓘ
  // that opens the layer's description, steward, access, licence, update frequency and contact.
  let groups = [];
  const layerMeta = {};      // group → { metadata, licence link } (null: no such collection)
  const hiddenGroups = new Set();
  const openInfo = new Set();
  async function loadLayers() {
    const order = ["parcels", "zoning", "admin"];
    const found = [];
    for (const l of map.getStyle().layers) { const g = l.metadata && l.metadata.group; if (g && !found.includes(g)) found.push(g); }
    groups = [...order.filter((g) => found.includes(g)), ...found.filter((g) => !order.includes(g) && g !== "basemap"), ...found.filter((g) => g === "basemap")];
    for (const g of groups) applyGroup(g);
    renderLayers();
    await Promise.all(groups.filter((g) => g !== "basemap").map(async (g) => {
      try {
        const r = await api(`/collections/${encodeURIComponent(g)}`);
        const c = r.ok ? await r.json() : null;
        const licence = c && (c.links || []).find((l) => l.rel === "license");
        layerMeta[g] = c ? { metadata: c.metadata || {}, licenceHref: licence ? safeHref(licence.href) : "" } : null;
      } catch { layerMeta[g] = null; }
    }));
    renderLayers();
  }
  function layerTitle(g) {
    const m = layerMeta[g] && layerMeta[g].metadata;
    return (m && (lang === "en" ? m.title_en || m.title : m.title || m.title_en)) || t(g);
  }
  function layerInfo(g) {
    const entry = layerMeta[g];
    if (!entry) return "";
    const m = entry.metadata;
    const description = lang === "en" ? m.description_en || m.description : m.description || m.description_en;
    const licence = m.licence ? (entry.licenceHref ? `<a href="${esc(entry.licenceHref)}" target="_blank" rel="noopener noreferrer">${esc(m.licence)}</a>` : esc(m.licence)) : "";
    const contact = m.contact ? (/^[^\s@<>"]+@[^\s@<>"]+$/.test(m.contact) ? `<a href="mailto:${esc(m.contact)}">${esc(m.contact)}</a>` : esc(m.contact)) : "";
    const html = (k, v) => (v ? `<tr><td>${esc(k)}</td><td>${v}</td></tr>` : "");
    return `<table>` + (description ? `<tr><td colspan="2">${esc(description)}</td></tr>` : "") + row(t("steward"), m.steward) +
      row(t("access"), m.access ? t(m.access) : undefined) + html(t("licence"), licence) + row(t("updateFrequency"), m.update_frequency ? t(m.update_frequency) : undefined) +
      html(t("contact"), contact) + row(t("keywords"), Array.isArray(m.keywords) ? m.keywords.join(", ") : m.keywords) + `</table>`;
  }
  function renderLayers() {
    const box = document.getElementById("layers");
    box.querySelectorAll(".layer").forEach((el) => el.remove());
    for (const g of groups) {
      const div = document.createElement("div");
      div.className = "layer";
      div.dataset.layer = g;
      const info = layerInfo(g);
      div.innerHTML = `<label><input type="checkbox" data-group="${esc(g)}"${hiddenGroups.has(g) ? "" : " checked"}> <span class="layer-title">${esc(layerTitle(g))}</span></label>` +
        (info ? ` <button type="button" class="info-button" title="${esc(t("info"))}" aria-label="${esc(t("info"))}" aria-expanded="${openInfo.has(g)}">ⓘ</button>` +
                `<div class="layer-info"${openInfo.has(g) ? "" : " hidden"}>${info}</div>` : "");
      box.appendChild(div);
    }
  }
  function applyGroup(g) {
    for (const layer of map.getStyle().layers) {
      if (layer.metadata && layer.metadata.group === g) map.setLayoutProperty(layer.id, "visibility", hiddenGroups.has(g) ? "none" : "visible");
    }
  }
  document.getElementById("layers").addEventListener("change", (e) => {
    const g = e.target.dataset.group;
    if (!g) return;
    if (e.target.checked) hiddenGroups.delete(g); else hiddenGroups.add(g);
    applyGroup(g);
  });
  document.getElementById("layers").addEventListener("click", (e) => {
    const button = e.target.closest(".info-button");
    if (!button) return;
    const g = button.closest(".layer").dataset.layer;
    if (openInfo.has(g)) openInfo.delete(g); else openInfo.add(g);
    const info = button.nextElementSibling;
    info.hidden = !openInfo.has(g);
    button.setAttribute("aria-expanded", String(openInfo.has(g)));
  });

  // The token control.
  function renderAuth() {
    const form = document.getElementById("auth");
    form.innerHTML = token
      ? `<span class="signed-in">${esc(t("signedIn"))}</span> <button type="button" id="sign-out">${esc(t("signOut"))}</button>`
      : `<input name="token" type="password" autocomplete="off" spellcheck="false" placeholder="${esc(t("tokenHint"))}" aria-label="${esc(t("token"))}"> ` +
        `<button type="submit">${esc(t("signIn"))}</button>` + (authError ? `<p class="error">${esc(authError)}</p>` : "");
  }
  async function signIn(value) {
    value = value.trim();
    if (!value) return;
    // Asked once before it is kept: a refused token is never stored.
    const r = await fetch("/changes?status=pending", { headers: { Authorization: `Bearer ${value}` } });
    if (r.status === 401) { authError = t("badToken"); renderAuth(); return; }
    token = value;
    authError = "";
    sessionStorage.setItem(tokenKey, token);
    changed();
  }
  function signOut() {
    token = "";
    sessionStorage.removeItem(tokenKey);
    changed();
  }
  function changed() {
    selected = null;
    renderAuth();
    reloadStyle();
    refreshPending();
    if (lastLookup) lookup(...lastLookup);
  }
  document.getElementById("auth").addEventListener("submit", (e) => { e.preventDefault(); signIn(e.target.token.value); });
  document.getElementById("auth").addEventListener("click", (e) => { if (e.target.id === "sign-out") { authError = ""; signOut(); } });

  // Pending changes a steward (or an admin) may review: the list, and the one selected drawn
  // over the map (before: red dashed outline; after: blue) with approve and reject.
  let reviewable = [];
  let selected = null;
  let reviewError = "";
  async function refreshPending() {
    if (!token) { reviewable = []; renderPending(); return; }
    try {
      const r = await api("/changes?status=pending");
      const list = r.ok ? (await r.json()).changes || [] : [];
      const details = await Promise.all(list.map(async (c) => { const d = await api(`/changes/${encodeURIComponent(c.id)}`); return d.ok ? d.json() : null; }));
      reviewable = details.filter((d) => d && d.may_review);
    } catch { reviewable = []; }
    if (selected) selected = reviewable.find((c) => c.id === selected.id) || null;
    renderPending();
    drawReview();
  }
  const value = (v) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  function featureDiff(f) {
    const b = (f.before && f.before.properties) || {}, a = (f.after && f.after.properties) || {};
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => !f.before || !f.after || value(b[k]) !== value(a[k]));
    let html = `<table class="diff"><tr><th></th><th>${esc(t("before"))}</th><th>${esc(t("after"))}</th></tr>`;
    if (f.before && f.after && JSON.stringify(f.before.geometry) !== JSON.stringify(f.after.geometry)) html += `<tr><td>geometry</td><td>…</td><td>…</td></tr>`;
    for (const k of keys) html += `<tr><td>${esc(k)}</td><td>${esc(value(b[k]))}</td><td>${esc(value(a[k]))}</td></tr>`;
    return html + "</table>";
  }
  function renderPending() {
    const section = document.getElementById("pending");
    section.hidden = !token || reviewable.length === 0;
    if (section.hidden) { section.innerHTML = ""; return; }
    let html = `<h2>${esc(t("pending"))} (${reviewable.length})</h2><ul>`;
    for (const c of reviewable) {
      html += `<li><button type="button" class="change${selected && selected.id === c.id ? " selected" : ""}" data-change="${esc(c.id)}">#${esc(c.id)} ${esc(c.layer)}: ${esc(c.summary)}</button> <small>${esc(c.proposer)}${c.unit ? ` (${esc(c.unit)})` : ""}</small></li>`;
    }
    html += "</ul>";
    if (selected) {
      const c = selected;
      html += `<div id="review" data-change="${esc(c.id)}"><h3>#${esc(c.id)} ${esc(c.summary)}</h3><table>` + row(t("proposer"), `${c.proposer}${c.unit ? ` (${c.unit})` : ""}`) +
        row(t("created"), c.created) + "</table>";
      if (c.stale && c.stale.length) html += `<p class="error">${esc(t("stale"))}: ${esc(c.stale.join(", "))}</p>`;
      for (const f of c.features || []) {
        html += `<h4>${esc(f.id)} — ${esc(t(f.action))}</h4>` + (f.changed_since_proposed ? `<p class="error">${esc(t("stale"))}</p>` : "") + featureDiff(f);
      }
      if (c.qa && c.qa.length) html += `<h4>${esc(t("qa"))}</h4><ul class="qa">` + c.qa.map((q) => `<li>${esc(q.severity)}: ${esc(q.message)}</li>`).join("") + "</ul>";
      html += `<p><button type="button" class="approve">${esc(t("approve"))}</button> <button type="button" class="reject">${esc(t("reject"))}</button> ` +
        `<button type="button" class="close">${esc(t("close"))}</button></p>` + (reviewError ? `<p class="error">${esc(reviewError)}</p>` : "") + "</div>";
    }
    section.innerHTML = html;
  }
  const reviewLayers = [
    { id: "review-after-fill", type: "fill", source: "review-after", paint: { "fill-color": "#1f6fd1", "fill-opacity": 0.25 }, filter: ["==", ["geometry-type"], "Polygon"] },
    { id: "review-after-line", type: "line", source: "review-after", paint: { "line-color": "#1f6fd1", "line-width": 2 } },
    { id: "review-after-point", type: "circle", source: "review-after", paint: { "circle-color": "#1f6fd1", "circle-radius": 6 }, filter: ["==", ["geometry-type"], "Point"] },
    { id: "review-before-line", type: "line", source: "review-before", paint: { "line-color": "#d62728", "line-width": 2.5, "line-dasharray": [2, 2] } },
    { id: "review-before-point", type: "circle", source: "review-before", paint: { "circle-color": "rgba(0,0,0,0)", "circle-radius": 8, "circle-stroke-color": "#d62728", "circle-stroke-width": 2 }, filter: ["==", ["geometry-type"], "Point"] },
  ];
  function drawReview() {
    if (!map.style || !map.style._loaded) return;  // style.load draws it again
    if (!selected) {
      for (const l of reviewLayers) if (map.getLayer(l.id)) map.removeLayer(l.id);
      for (const s of ["review-after", "review-before"]) if (map.getSource(s)) map.removeSource(s);
      return;
    }
    for (const side of ["before", "after"]) {
      const data = { type: "FeatureCollection", features: (selected.features || []).filter((f) => f[side] && f[side].geometry)
        .map((f) => ({ type: "Feature", geometry: f[side].geometry, properties: { id: f.id, action: f.action } })) };
      const source = map.getSource(`review-${side}`);
      if (source) source.setData(data); else map.addSource(`review-${side}`, { type: "geojson", data });
    }
    for (const l of reviewLayers) if (!map.getLayer(l.id)) map.addLayer(l);
  }
  function fitReview() {
    let [x0, y0, x1, y1] = [180, 90, -180, -90];
    const walk = (c) => { if (typeof c[0] === "number") { x0 = Math.min(x0, c[0]); x1 = Math.max(x1, c[0]); y0 = Math.min(y0, c[1]); y1 = Math.max(y1, c[1]); } else c.forEach(walk); };
    for (const f of selected.features || []) for (const g of [f.before, f.after]) if (g && g.geometry) walk(g.geometry.coordinates);
    if (x0 <= x1) map.fitBounds([[x0, y0], [x1, y1]], { maxZoom: 19, padding: 60 });
  }
  async function decide(verb) {
    const c = selected;
    let body;
    if (verb === "reject") {
      const reason = window.prompt(t("reason"));
      if (reason === null || !reason.trim()) return;
      body = JSON.stringify({ reason });
    }
    const r = await api(`/changes/${encodeURIComponent(c.id)}/${verb}`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    if (!r.ok) {
      const problem = await r.json().catch(() => ({}));
      reviewError = problem.detail || r.statusText;
      renderPending();
      return;
    }
    reviewError = "";
    selected = null;
    await refreshPending();
    if (verb === "approve") {  // the tiles and the open panel now show what was approved
      reloadStyle();
      if (lastLookup) lookup(...lastLookup);
    }
  }
  document.getElementById("pending").addEventListener("click", (e) => {
    const pick = e.target.closest("button.change");
    if (pick) {
      selected = reviewable.find((c) => String(c.id) === pick.dataset.change) || null;
      reviewError = "";
      renderPending();
      drawReview();
      if (selected) fitReview();
      return;
    }
    if (!selected) return;
    if (e.target.closest("button.approve")) decide("approve");
    else if (e.target.closest("button.reject")) decide("reject");
    else if (e.target.closest("button.close")) { selected = null; reviewError = ""; renderPending(); drawReview(); }
  });

  document.getElementById("search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const q = new URLSearchParams({ ward: f.get("ward"), sheet: f.get("sheet"), number: f.get("number") });
    const r = await api(`/parcels?${q}`);
    const fc = r.ok ? await r.json() : { features: [] };
    const feature = fc.features && fc.features[0];
    if (!feature || !feature.label_point) { show(() => `<p class="error">${t("notFound")}</p>`); return; }
    const coords = feature.geometry.coordinates.flat(3);
    let [x0, y0, x1, y1] = [180, 90, -180, -90];
    for (let i = 0; i < coords.length; i += 2) { x0 = Math.min(x0, coords[i]); x1 = Math.max(x1, coords[i]); y0 = Math.min(y0, coords[i + 1]); y1 = Math.max(y1, coords[i + 1]); }
    map.fitBounds([[x0, y0], [x1, y1]], { maxZoom: 19, padding: 60 });
    // The parcel found, opened by its id at the point the server gives inside it (never at its
    // box centre, which for an L-shaped parcel lies in a neighbour); the numbers go back as sent.
    const [lon, lat] = feature.label_point;
    lookup(lon, lat, feature.id);
  });

  // The search box (GET /search): suggestions as one types, a moment after the last key, the
  // newest answer only; choosing one shows it and asks /parcels/at at the point inside it.
  const q = document.getElementById("q");
  const list = document.getElementById("suggestions");
  let hits = [], active = -1, asked = 0, timer = null;
  function renderHits() {
    list.hidden = hits.length === 0 && !q.value.trim();
    list.innerHTML = hits.length ? hits.map((h, i) => `<li role="option" data-i="${i}" aria-selected="${i === active}">${esc(h.label)}<small>${esc(t(h.layer))}</small></li>`).join("")
      : q.value.trim() ? `<li class="error">${esc(t("nothingFound"))}</li>` : "";
  }
  async function suggest() {
    const text = q.value.trim();
    const mine = ++asked;
    if (!text) { hits = []; active = -1; renderHits(); return; }
    const r = await api(`/search?${new URLSearchParams({ q: text, limit: "8" })}`);
    const body = r.ok ? await r.json() : { hits: [] };
    if (mine !== asked) return;  // a later key's answer wins
    hits = body.hits || [];
    active = -1;
    renderHits();
  }
  function choose(i) {
    const h = hits[i];
    if (!h || !h.point) return;
    list.hidden = true;
    if (h.bbox) map.fitBounds([[h.bbox[0], h.bbox[1]], [h.bbox[2], h.bbox[3]]], { maxZoom: 19, padding: 60 });
    lookup(h.point[0], h.point[1], h.layer === "parcels" ? h.id : undefined);
  }
  q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
  q.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (hits.length) active = (active + (e.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
      renderHits();
    } else if (e.key === "Escape") {
      list.hidden = true;
    }
  });
  document.getElementById("find").addEventListener("submit", (e) => { e.preventDefault(); choose(active >= 0 ? active : 0); });
  list.addEventListener("mousedown", (e) => {
    const li = e.target.closest("li[data-i]");
    if (li) { e.preventDefault(); choose(Number(li.dataset.i)); }
  });

  document.getElementById("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; translate(); });
  translate();
  refreshPending();
  // New proposals appear without a reload: asked again every minute while signed in and shown.
  setInterval(() => { if (token && document.visibilityState === "visible") refreshPending(); }, 60000);
})();
