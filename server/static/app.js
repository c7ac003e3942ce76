"use strict";
// The shopper's page: photo (pick / drop / paste, optional region box), text, price range, sort,
// category facets, results with score breakdown on hover, "show more" pages and "more like this".
const $ = (id) => document.getElementById(id);
const PAGE = 24;
const SOLD_OUT = new Set(["out_of_stock", "out of stock", "sold out", "sold_out"]);  // engine/fusion.py OUT_OF_STOCK
// attrs: chosen attribute filters, a prototype-free map (attribute names come from the shop's data)
const state = { photo: null, box: null, category: null, attrs: Object.create(null), exclude: [], shown: 0, asTyped: false };

function setPhoto(dataUrl) {
  state.photo = dataUrl; state.box = null; $("box").hidden = true;
  $("preview").src = dataUrl; $("preview-wrap").hidden = !dataUrl; $("drop-hint").hidden = !!dataUrl;
}
// A phone's photo (12-48 Mpx, 3-10 MB, a third more as base64) is scaled to MAX_SIDE pixels before it is sent:
// each search and each page sends it again, and the towers read 224-300 px. Small photos go as they are.
const MAX_SIDE = 1280;
async function shrink(file) {
  const bitmap = await createImageBitmap(file);  // upright: the photo's orientation tag is applied
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.size < 1.5e6) { bitmap.close(); return null; }
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas.toDataURL("image/jpeg", 0.9);
}
function readFile(file) {
  if (!file) return;
  const asIs = () => { const reader = new FileReader(); reader.onload = () => setPhoto(reader.result); reader.readAsDataURL(file); };
  // what the browser cannot decode goes as it is: the server names the problem
  shrink(file).then((small) => small ? setPhoto(small) : asIs(), asIs);
}
$("pick").onclick = () => $("file").click();
$("drop").addEventListener("keydown", (e) => {  // the drop zone is focusable: Enter or Space picks a photo
  if (e.target === $("drop") && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); $("file").click(); }
});
$("file").onchange = (e) => readFile(e.target.files[0]);
$("clear-photo").onclick = () => { setPhoto(null); state.exclude = []; };
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); readFile(e.dataTransfer.files[0]); });
document.addEventListener("paste", (e) => {
  const item = [...(e.clipboardData || {}).items || []].find((i) => i.type.startsWith("image/"));
  if (item) readFile(item.getAsFile());
});

// Region box: drag on the preview (mouse, finger or pen); stored as fractions [x0, y0, x1, y1].
let dragStart = null;
$("preview").addEventListener("pointerdown", (e) => { e.preventDefault(); dragStart = rel(e); });
window.addEventListener("pointerup", (e) => {
  if (!dragStart) return;
  const end = rel(e), b = [Math.min(dragStart[0], end[0]), Math.min(dragStart[1], end[1]),
                           Math.max(dragStart[0], end[0]), Math.max(dragStart[1], end[1])];
  dragStart = null;
  if (b[2] - b[0] < 0.05 || b[3] - b[1] < 0.05) { state.box = null; $("box").hidden = true; return; }
  state.box = b;
  const s = $("box").style;
  s.left = b[0] * 100 + "%"; s.top = b[1] * 100 + "%"; s.width = (b[2] - b[0]) * 100 + "%"; s.height = (b[3] - b[1]) * 100 + "%";
  $("box").hidden = false;
});
function rel(e) {
  const r = $("preview").getBoundingClientRect();
  return [Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))];
}

async function search(asTyped = false, more = false) {
  if (!more) state.asTyped = asTyped;
  const body = { k: PAGE, offset: more ? state.shown : 0, sort: $("sort").value, filters: {} };
  if (state.asTyped) body.read_words = false;
  const text = $("text").value.trim();
  if (text) body.text = text;
  if (state.photo) { body.image = state.photo; if (state.box) body.box = state.box; }
  if ($("min").value !== "") body.filters.min_price = Number($("min").value);
  if ($("max").value !== "") body.filters.max_price = Number($("max").value);
  if (state.category) body.filters.category = state.category;
  if (Object.keys(state.attrs).length) body.filters.attributes = { ...state.attrs };
  if (state.exclude.length) body.exclude = state.exclude;
  if (!body.text && !body.image && !Object.keys(body.filters).length) {  // filters alone browse them
    $("status").textContent = t("need"); return;
  }
  if (!more) remember(body);
  $("status").textContent = t("searching");
  const res = await fetch("/api/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await res.json();
  if (!res.ok) { $("status").textContent = t("error", data.error); $("results").replaceChildren(); $("more-results").hidden = true; return; }
  state.shown = body.offset + data.results.length;
  // a price order orders the relevant matches (the response says how many); relevance pages go 1,000 deep
  const browsing = data.plan === "browse";  // filters alone: every match, pages as deep as they go
  const deepest = browsing || data.ordered == null ? Math.min(data.matching, browsing ? Infinity : 1000) : data.ordered;
  $("more-results").hidden = data.results.length < PAGE || state.shown >= deepest;
  $("status").textContent = (data.ordered != null && !browsing ? t("byPrice", state.shown, data.ordered)
    : t("matching", state.shown, data.matching)) + ` · ${data.timings_ms.total.toFixed(0)} ms`
    + readNote(data.understood);
  if (data.understood && !state.asTyped) {  // the shopper can take the words back: search them as typed
    const undo = document.createElement("button");
    undo.id = "as-typed"; undo.type = "button"; undo.className = "link"; undo.textContent = t("asTyped");
    undo.addEventListener("click", () => search(true));
    $("status").append(" · ", undo);
  }
  renderResults(data.results, more);
  renderFacets(data.facets);
  renderRefine(data.refine);
}

function renderResults(results, append) {
  const cards = results.map((r) => {
    const p = r.product, card = document.createElement("div");
    card.className = "card"; card.dataset.id = p.id;
    card.title = Object.entries(r.why).map(([k, v]) => `${k}: ${v.toFixed(3)}`).join("\n") + `\nscore: ${r.score.toFixed(3)}`;
    const img = document.createElement("img");
    img.loading = "lazy"; img.alt = p.title; if (p.images.length) img.src = p.images[0];
    const title = document.createElement("div"); title.className = "title";
    const link = p.attributes && p.attributes.link;  // a feed's product page (http(s) only)
    if (link && /^https?:\/\//i.test(link)) {
      const a = document.createElement("a"); a.href = link; a.rel = "noopener"; a.textContent = p.title; title.append(a);
    } else title.textContent = p.title;
    const price = document.createElement("div"); price.className = "price";
    price.textContent = p.price == null ? "" : `${p.price.toFixed(2)} ${p.currency}`;
    const meta = document.createElement("div"); meta.className = "meta"; meta.textContent = p.category;
    const more = document.createElement("button"); more.className = "more"; more.type = "button"; more.textContent = t("more");
    more.setAttribute("aria-label", t("moreLabel", p.title));  // each card's button says which product
    more.onclick = () => moreLikeThis(p);
    card.append(img, title, price, meta);
    if (SOLD_OUT.has(String((p.attributes || {}).availability || "").toLowerCase())) {  // (it also ranks lower)
      const sold = document.createElement("div"); sold.className = "sold"; sold.textContent = t("soldOut");
      card.append(sold);
    }
    if (r.duplicates && r.duplicates.length) {  // near-duplicate listings folded into this one
      const dups = document.createElement("div"); dups.className = "dups";
      const n = r.duplicates.length;
      dups.textContent = t("dups", n);
      dups.title = r.duplicates.join(", ");
      card.append(dups);
    }
    card.append(more);
    if (p.price != null) {  // a product page's "cheaper alternatives": like it, cheaper, of its kind
      const cheaper = document.createElement("button"); cheaper.className = "cheaper link"; cheaper.type = "button";
      cheaper.textContent = t("cheaperLike"); cheaper.setAttribute("aria-label", t("cheaperLabel", p.title));
      cheaper.onclick = () => cheaperThan(p);
      card.append(cheaper);
    }
    return card;
  });
  if (append) $("results").append(...cards); else $("results").replaceChildren(...cards);
}

// What the relevant matches hold: their stated colours and repeating attributes (brand, size, pattern) to
// narrow by (a chosen one can be taken back), and their prices.
function renderRefine(refine) {
  const chips = [];
  const narrow = (name, value) => () => { state.attrs[name] = value; search(state.asTyped); };
  for (const [name, value] of Object.entries(state.attrs)) {
    chips.push(chip(`${name}: ${value} ×`, () => { delete state.attrs[name]; search(state.asTyped); }, "active"));
  }
  const mostFirst = (counts) => Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (refine && refine.colours && !state.attrs.colour) {
    for (const [c, n] of mostFirst(refine.colours).slice(0, 8)) chips.push(chip(`${c} (${n})`, narrow("colour", c)));
  }
  const attributes = refine && refine.attributes ? Object.entries(refine.attributes) : [];
  const useful = attributes.filter(([name, values]) => !Object.hasOwn(state.attrs, name)  // one value held by every match narrows nothing
    && !(Object.keys(values).length === 1 && Object.values(values)[0] >= refine.relevant));
  const total = (values) => Object.values(values).reduce((a, b) => a + b, 0);
  for (const [name, values] of useful.sort((a, b) => total(b[1]) - total(a[1])).slice(0, 3)) {
    for (const [v, n] of mostFirst(values).slice(0, 5)) chips.push(chip(`${name}: ${v} (${n})`, narrow(name, v)));
  }
  const price = refine && refine.price ? t("prices", refine.price.min.toFixed(2), refine.price.max.toFixed(2)) : "";
  $("refine").replaceChildren(...(chips.length ? [document.createTextNode(t("refine")), ...chips] : []),
                              document.createTextNode(price));
}

function chip(label, onclick, cls = "") {
  const b = document.createElement("button");
  b.type = "button"; b.className = "chip " + cls; b.textContent = label; b.addEventListener("click", onclick);
  return b;
}

function renderFacets(facets) {
  const items = Object.entries(facets || {}).sort((a, b) => a[0].localeCompare(b[0]));
  const all = [["", t("allCategories")]];
  $("facet-list").replaceChildren(...all.concat(items).map(([path, n]) => {
    const li = document.createElement("li"), a = document.createElement("a");
    a.href = "#"; a.textContent = path ? `${path} (${n})` : n;
    if ((state.category || "") === path) a.className = "active";
    a.onclick = (e) => { e.preventDefault(); state.category = path || null; search(); };
    li.append(a); return li;
  }));
}

async function cheaperThan(p) {
  $("status").textContent = t("searching");
  const res = await fetch(`/api/products/${encodeURIComponent(p.id)}/similar?k=${PAGE}&price=cheaper`);
  const data = await res.json();
  if (!res.ok) { $("status").textContent = t("error", data.error); return; }
  $("more-results").hidden = true;
  $("refine").replaceChildren();
  $("status").textContent = t("cheaperFound", data.results.length, p.title, p.price.toFixed(2));
  renderResults(data.results, false);
}

async function moreLikeThis(p) {
  if (!p.images.length) { $("text").value = p.title; state.exclude = [p.id]; return search(); }
  const blob = await (await fetch(p.images[0])).blob();
  const reader = new FileReader();
  reader.onload = () => { setPhoto(reader.result); $("text").value = ""; state.exclude = [p.id]; search(); };
  reader.readAsDataURL(blob);
}

// The search in the address (?q=&category=&min=&max=&sort=): a link to it, the shop's own search box sending
// shoppers here, and the back button all give the same results. A photo is not put in the address.
const PARAMS = { q: "text", min: "min", max: "max", sort: "sort" };
function remember(body) {
  const params = new URLSearchParams();
  for (const [name, id] of Object.entries(PARAMS)) {
    const value = $(id).value.trim();
    if (value && !(name === "sort" && value === "relevance") && !(name === "q" && body.image)) params.set(name, value);
  }
  if (state.category) params.set("category", state.category);
  const url = params.toString() ? `?${params}` : location.pathname;
  if (url !== location.search && !(url === location.pathname && !location.search)) history.pushState(null, "", url);
}
function restore() {
  const params = new URLSearchParams(location.search);
  for (const [name, id] of Object.entries(PARAMS)) $(id).value = params.get(name) || (name === "sort" ? "relevance" : "");
  state.category = params.get("category");
  state.attrs = Object.create(null);
  if ([...params.keys()].length) search();
}
window.addEventListener("popstate", restore);
restore();

$("search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
$("sort").addEventListener("change", () => { if ($("text").value.trim() || state.photo) search(state.asTyped); });
$("more-results").addEventListener("click", () => search(state.asTyped, true));
fetch("/api/categories").then((r) => r.json()).then(renderFacets).catch(() => {});

// Search-as-you-type: titles holding the words typed so far (the last one a prefix), offered under the box.
let suggestTimer = null;
$("text").addEventListener("input", () => {
  clearTimeout(suggestTimer);
  const typed = $("text").value;
  if (typed.trim().length < 2) { $("suggestions").replaceChildren(); return; }
  suggestTimer = setTimeout(() => {
    fetch(`/api/suggest?q=${encodeURIComponent(typed)}&k=8`).then((r) => r.json()).then((body) => {
      if ($("text").value !== typed) return;  // typed on meanwhile
      $("suggestions").replaceChildren(...(body.suggestions || []).map((s) => {
        const option = document.createElement("option");
        option.value = s.title;
        return option;
      }));
    }).catch(() => {});
  }, 120);
});

// Price words read out of the text ("under 300") are filters, category and colour words a preference, and a
// photo with words is first matched to the product it shows; say so.
function readNote(u) {
  if (!u) return "";
  const parts = [];
  if (u.min_price != null) parts.push(t("from", u.min_price));
  if (u.max_price != null) parts.push(t("upTo", u.max_price));
  if (u.price_target != null) parts.push(t("around", u.price_target));
  const why = [u.corrected ? t("typed", Object.keys(u.corrected).join(", ")) : "",  // typos, the shop's synonyms
               u.synonyms ? t("shopWords", Object.entries(u.synonyms).map(([a, b]) => `${a} → ${b}`).join(", ")) : ""];
  const fixed = u.corrected || u.synonyms ? t("showing", u.text, why.filter(Boolean).join("; ")) : "";
  if (u.sort) parts.push(t(u.sort === "price_asc" ? "cheapest" : "dearest"));  // "cheapest", "最贵"
  const price = parts.length ? t("price", parts.join(" ")) : "";
  const words = u.category_words && u.category_words.length ? t("looking", u.category_words.join(", ")) : "";
  const none = u.not_within_filters ? t("none", u.not_within_filters.join(", ")) : "";
  const colours = u.colours && u.colours.length ? t("colour", u.colours.join(", ")) : "";
  const embedded = u.embedded_as ? t("readAs", u.embedded_as) : "";  // a colour word the shop never uses
  const head = u.head_word ? t("kind", u.head_word) : "";  // the word weighed beside the text
  const anchor = u.anchor ? t("shows", u.anchor_title || u.anchor) : "";
  const pointed = u.photo_words ? t("pointed", u.photo_words) : "";
  const than = u.cheaper_than || u.pricier_than;  // "this, but cheaper": the product the photo shows bounds the price
  const compared = than ? t(u.cheaper_than ? "cheaper" : "dearer", than.title, than.price) : "";
  return fixed + price + words + none + colours + embedded + head + anchor + pointed + compared;
}
