// LandMap viewer: MapLibre GL JS served by LandMap itself (no CDN), a click asks /parcels/at.
(function () {
  "use strict";
  const text = {
    vi: { title: "Thửa đất và quy hoạch", layers: "Lớp bản đồ", parcels: "Thửa đất", zoning: "Quy hoạch", admin: "Phường/xã",
          search: "Tìm thửa", find: "Tìm", hint: "Bấm vào bản đồ để xem thửa đất, quy hoạch và phường.", parcel: "Thửa đất",
          sheet: "Tờ bản đồ", number: "Số thửa", ward: "Phường/xã", use: "Loại đất", area: "Diện tích tính toán", declared: "Diện tích pháp lý",
          address: "Địa chỉ", plan: "Quy hoạch", none: "Không có thửa đất tại điểm này", notFound: "Không tìm thấy thửa", floors: "tầng", coverage: "mật độ", basemap: "Bản đồ nền",
          wardCode: "Mã phường (27484)", sheetNo: "Số tờ", parcelNo: "Số thửa", page: "LandMap — Bản đồ thửa đất TP.HCM", elsewhere: "Điểm trong thửa {id} trả về thửa khác" },
    en: { title: "Parcels and zoning", layers: "Layers", parcels: "Parcels", zoning: "Zoning", admin: "Wards",
          search: "Find a parcel", find: "Find", hint: "Click the map to see the parcel, its zoning and its ward.", parcel: "Parcel",
          sheet: "Map sheet", number: "Parcel number", ward: "Ward", use: "Land use", area: "Computed area", declared: "Declared area",
          address: "Address", plan: "Zoning", none: "No parcel at this point", notFound: "No such parcel", floors: "floors", coverage: "coverage", basemap: "Basemap",
          wardCode: "Ward code (27484)", sheetNo: "Sheet", parcelNo: "Parcel", page: "LandMap — Ho Chi Minh City parcels", elsewhere: "The point inside parcel {id} answered another parcel" },
  };
  let lang = "vi";
  const t = (k) => text[lang][k] || k;
  // What the answer panel shows, as a function of the language: a switch of language redraws it.
  let shown = null;
  function show(render) {
    shown = render;
    document.getElementById("answer").innerHTML = render();
  }
  function translate() {
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.getElementById("lang").textContent = lang === "vi" ? "EN" : "VI";
    document.documentElement.lang = lang;
    document.title = t("page");
    if (shown) document.getElementById("answer").innerHTML = shown();
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

  const params = new URLSearchParams(location.search);
  const map = new maplibregl.Map({
    container: "map",
    style: "/styles/landmap.json",
    center: [106.7483, 10.7348],
    zoom: 16,
    hash: true,
    attributionControl: { compact: true },
  });
  window.landmapMap = map;  // for scripted checks in a browser (Tools/viewer-check.mjs)
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl(), "bottom-left");
  let marker = null;

  // The panel for the answer of /parcels/at; `expect` is the id of the parcel the search found,
  // asked about at its label point (inside it): any other answer is shown as an error, never
  // as that parcel.
  async function lookup(lon, lat, expect) {
    const answer = document.getElementById("answer");
    if (marker) marker.remove();
    marker = new maplibregl.Marker({ color: "#c0392b" }).setLngLat([lon, lat]).addTo(map);
    try {
      const r = await fetch(`/parcels/at?lon=${lon}&lat=${lat}`);
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
        row(t("declared"), p.declared_area_m2 !== undefined ? p.declared_area_m2 + " m²" : undefined) + row(t("address"), p.address) + "</table>";
    } else {
      html += `<h2>${t("none")}</h2>`;
    }
    if (a.zoning && a.zoning.length) {
      html += `<h2>${t("plan")}</h2><table>`;
      for (const z of a.zoning.filter((z) => z.share === null || z.share >= 0.0005)) {
        const share = z.share === null ? "" : `<span class="share" style="width:${Math.round(z.share * 80)}px"></span> ${(z.share * 100).toFixed(1)} %`;
        const limits = [z.floors_max > 0 ? `≤ ${z.floors_max} ${t("floors")}` : "", z.density_max_pct ? `${t("coverage")} ≤ ${z.density_max_pct} %` : ""].filter(Boolean).join(", ");
        html += `<tr><td>${esc(z.land_use || "?")} <small>${esc(z.zone_code || z.id)}</small></td><td>${share} ${esc(limits)}</td></tr>`;
      }
      html += "</table>";
    }
    if (a.admin) html += `<h2>${t("ward")}</h2><table>` + row(a.admin.code, a.admin.name) + "</table>";
    return html;
  }

  map.on("click", (e) => lookup(e.lngLat.lng.toFixed(7), e.lngLat.lat.toFixed(7)));
  map.on("load", () => {
    translateMap();
    // ?at=lon,lat opens the map with that point asked about (shareable links, screenshots).
    const at = params.get("at");
    if (at) {
      const [lon, lat] = at.split(",").map(Number);
      if (isFinite(lon) && isFinite(lat)) { map.jumpTo({ center: [lon, lat], zoom: 18 }); lookup(lon, lat); }
    }
    if (map.getLayer("basemap")) {  // only when the server is configured with --basemap-url
      const label = document.createElement("label");
      label.innerHTML = '<input type="checkbox" data-group="basemap" checked> <span data-i18n="basemap"></span>';
      document.getElementById("layers").appendChild(label);
      label.querySelector("input").addEventListener("change", toggleGroup);
      translate();
    }
    document.body.dataset.ready = "1";
  });

  function toggleGroup(e) {
    const box = e.target;
    for (const layer of map.getStyle().layers) {
      if (layer.metadata && layer.metadata.group === box.dataset.group) {
        map.setLayoutProperty(layer.id, "visibility", box.checked ? "visible" : "none");
      }
    }
  }
  document.querySelectorAll("#layers input").forEach((box) => box.addEventListener("change", toggleGroup));

  document.getElementById("search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const q = new URLSearchParams({ ward: f.get("ward"), sheet: f.get("sheet"), number: f.get("number") });
    const r = await fetch(`/parcels?${q}`);
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

  document.getElementById("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; translate(); });
  translate();
})();
