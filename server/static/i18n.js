"use strict";
// The page's words in the shopper's language: the first of the browser's languages held here (?lang=zh chooses
// one; a shop links its pages with it), else English. Elements marked data-i18n (text), data-i18n-placeholder
// and data-i18n-label (aria-label) are written at load; app.js asks t(key, ...values) for the rest.
const STRINGS = {
  en: {
    tag: "search by photo, by words, or both", drop: "Drop, paste or", pick: "choose a photo",
    dropLabel: "photo: click, drop or paste",
    region: "drag on the photo to search a region", remove: "remove photo", words: "search words",
    placeholder: "e.g. red striped hoodie / 红色连衣裙", min: "min", max: "max", sort: "sort",
    relevance: "best match", price_asc: "price: low to high", price_desc: "price: high to low", go: "Search",
    categories: "Categories", showMore: "Show more", allCategories: "All categories",
    need: "Add a photo or some words, or pick a category.", searching: "Searching…", error: (m) => `Error: ${m}`,
    byPrice: (shown, n) => `${shown} of ${n} relevant matches by price`,
    matching: (shown, n) => `${shown} of ${n} matching products`, asTyped: "search the words as typed",
    more: "More like this", moreLabel: (title) => `More like ${title}`,
    dups: (n) => `+${n} other listing${n > 1 ? "s" : ""} with this photo`, refine: "Refine: ",
    prices: (a, b) => ` prices ${a}–${b}`, from: (x) => `from ${x}`, upTo: (x) => `up to ${x}`,
    around: (x) => `around ${x}`, cheapest: "cheapest first", dearest: "dearest first",
    price: (parts) => ` · price ${parts} (from your words)`, typed: (w) => `you typed ${w}`,
    shopWords: (w) => `the shop's words: ${w}`, showing: (text, why) => ` · showing results for "${text}" (${why})`,
    looking: (w) => ` · looking in: ${w}`, none: (w) => ` · no ${w} within these filters: the closest shown`,
    colour: (c) => ` · colour: ${c}`, readAs: (w) => ` (read as "${w}")`, kind: (w) => ` · kind of product: ${w}`,
    shows: (t) => ` · your photo shows: ${t}`, pointed: (w) => ` · searched by your photo alone ("${w}" points at it)`,
    cheaper: (t, p) => ` · cheaper than ${t} (${p})`, dearer: (t, p) => ` · dearer than ${t} (${p})`,
    cheaperLike: "Cheaper like this", cheaperLabel: (title) => `Cheaper products like ${title}`,
    cheaperFound: (n, title, price) => `${n} like ${title}, cheaper than ${price}`,
  },
  zh: {
    tag: "以图搜、以文字搜，或二者结合", drop: "拖入、粘贴或", pick: "选择照片", dropLabel: "照片：点击、拖入或粘贴",
    region: "在照片上拖动以搜索局部", remove: "移除照片", words: "搜索词",
    placeholder: "例如：红色条纹连帽衫 / red striped hoodie", min: "最低价", max: "最高价", sort: "排序",
    relevance: "最相关", price_asc: "价格从低到高", price_desc: "价格从高到低", go: "搜索",
    categories: "类别", showMore: "显示更多", allCategories: "全部类别",
    need: "请添加照片或文字，或选择一个类别。", searching: "搜索中…", error: (m) => `出错：${m}`,
    byPrice: (shown, n) => `按价格排列：${n} 个相关商品中的 ${shown} 个`,
    matching: (shown, n) => `${n} 个匹配商品中的 ${shown} 个`, asTyped: "按原文搜索",
    more: "找相似", moreLabel: (title) => `找与「${title}」相似的商品`,
    dups: (n) => `另有 ${n} 个商品使用此照片`, refine: "筛选：",
    prices: (a, b) => ` 价格 ${a}–${b}`, from: (x) => `${x} 起`, upTo: (x) => `不超过 ${x}`,
    around: (x) => `约 ${x}`, cheapest: "从低到高", dearest: "从高到低",
    price: (parts) => ` · 价格 ${parts}（来自您的文字）`, typed: (w) => `您输入的是 ${w}`,
    shopWords: (w) => `本店用词：${w}`, showing: (text, why) => ` · 显示「${text}」的结果（${why}）`,
    looking: (w) => ` · 在此查找：${w}`, none: (w) => ` · 此筛选条件下没有${w}：显示最接近的`,
    colour: (c) => ` · 颜色：${c}`, readAs: (w) => `（理解为「${w}」）`, kind: (w) => ` · 商品种类：${w}`,
    shows: (t) => ` · 您的照片是：${t}`, pointed: (w) => ` · 仅按照片搜索（「${w}」指的是照片）`,
    cheaper: (t, p) => ` · 比「${t}」（${p}）便宜`, dearer: (t, p) => ` · 比「${t}」（${p}）贵`,
    cheaperLike: "更便宜的同类", cheaperLabel: (title) => `比「${title}」更便宜的同类商品`,
    cheaperFound: (n, title, price) => `${n} 个与「${title}」相似、比 ${price} 便宜的商品`,
  },
  de: {
    tag: "per Foto, per Wort oder beides suchen", drop: "Ablegen, einfügen oder", pick: "Foto wählen",
    dropLabel: "Foto: klicken, ablegen oder einfügen", region: "auf dem Foto ziehen, um einen Ausschnitt zu suchen",
    remove: "Foto entfernen", words: "Suchbegriffe", placeholder: "z. B. rot gestreifter Hoodie", min: "ab",
    max: "bis", sort: "Sortierung", relevance: "beste Treffer", price_asc: "Preis aufsteigend",
    price_desc: "Preis absteigend", go: "Suchen", categories: "Kategorien", showMore: "Mehr anzeigen",
    allCategories: "Alle Kategorien", need: "Foto oder Suchbegriffe hinzufügen oder eine Kategorie wählen.",
    searching: "Suche läuft …", error: (m) => `Fehler: ${m}`,
    byPrice: (shown, n) => `${shown} von ${n} passenden Treffern nach Preis`,
    matching: (shown, n) => `${shown} von ${n} passenden Produkten`, asTyped: "wie eingegeben suchen",
    more: "Ähnliche", moreLabel: (title) => `Ähnlich wie ${title}`,
    dups: (n) => `+${n} weitere${n > 1 ? "" : "s"} Angebot${n > 1 ? "e" : ""} mit diesem Foto`, refine: "Eingrenzen: ",
    prices: (a, b) => ` Preise ${a}–${b}`, from: (x) => `ab ${x}`, upTo: (x) => `bis ${x}`, around: (x) => `um ${x}`,
    cheapest: "günstigste zuerst", dearest: "teuerste zuerst", price: (parts) => ` · Preis ${parts} (aus Ihren Worten)`,
    typed: (w) => `Sie tippten ${w}`, shopWords: (w) => `Begriffe des Shops: ${w}`,
    showing: (text, why) => ` · Ergebnisse für „${text}“ (${why})`, looking: (w) => ` · gesucht in: ${w}`,
    none: (w) => ` · kein ${w} mit diesen Filtern: die nächsten gezeigt`, colour: (c) => ` · Farbe: ${c}`,
    readAs: (w) => ` (gelesen als „${w}“)`, kind: (w) => ` · Produktart: ${w}`, shows: (t) => ` · Ihr Foto zeigt: ${t}`,
    pointed: (w) => ` · nur nach Ihrem Foto gesucht („${w}“ meint das Foto)`,
    cheaper: (t, p) => ` · günstiger als ${t} (${p})`, dearer: (t, p) => ` · teurer als ${t} (${p})`,
    cheaperLike: "Günstigere ähnliche", cheaperLabel: (title) => `Günstigere Produkte wie ${title}`,
    cheaperFound: (n, title, price) => `${n} wie ${title}, günstiger als ${price}`,
  },
  fr: {
    tag: "chercher par photo, par mots, ou les deux", drop: "Déposez, collez ou", pick: "choisissez une photo",
    dropLabel: "photo : cliquer, déposer ou coller", region: "faites glisser sur la photo pour en chercher une partie",
    remove: "retirer la photo", words: "mots de recherche", placeholder: "p. ex. sweat à capuche rouge rayé",
    min: "min", max: "max", sort: "tri", relevance: "pertinence", price_asc: "prix croissant",
    price_desc: "prix décroissant", go: "Rechercher", categories: "Catégories", showMore: "Voir plus",
    allCategories: "Toutes les catégories", need: "Ajoutez une photo ou des mots, ou choisissez une catégorie.",
    searching: "Recherche…", error: (m) => `Erreur : ${m}`,
    byPrice: (shown, n) => `${shown} sur ${n} résultats pertinents, par prix`,
    matching: (shown, n) => `${shown} sur ${n} produits`, asTyped: "chercher les mots tels quels",
    more: "Similaires", moreLabel: (title) => `Similaires à ${title}`,
    dups: (n) => `+${n} autre${n > 1 ? "s" : ""} annonce${n > 1 ? "s" : ""} avec cette photo`, refine: "Affiner : ",
    prices: (a, b) => ` prix ${a}–${b}`, from: (x) => `dès ${x}`, upTo: (x) => `jusqu'à ${x}`,
    around: (x) => `environ ${x}`, cheapest: "moins chers d'abord", dearest: "plus chers d'abord",
    price: (parts) => ` · prix ${parts} (d'après vos mots)`, typed: (w) => `vous avez tapé ${w}`,
    shopWords: (w) => `les mots de la boutique : ${w}`, showing: (text, why) => ` · résultats pour « ${text} » (${why})`,
    looking: (w) => ` · recherche dans : ${w}`, none: (w) => ` · aucun ${w} avec ces filtres : les plus proches`,
    colour: (c) => ` · couleur : ${c}`, readAs: (w) => ` (lu comme « ${w} »)`, kind: (w) => ` · type de produit : ${w}`,
    shows: (t) => ` · votre photo montre : ${t}`, pointed: (w) => ` · recherche par votre photo seule (« ${w} » la désigne)`,
    cheaper: (t, p) => ` · moins cher que ${t} (${p})`, dearer: (t, p) => ` · plus cher que ${t} (${p})`,
    cheaperLike: "Moins chers similaires", cheaperLabel: (title) => `Produits moins chers comme ${title}`,
    cheaperFound: (n, title, price) => `${n} comme ${title}, moins chers que ${price}`,
  },
  es: {
    tag: "busca por foto, por palabras o ambas", drop: "Suelta, pega o", pick: "elige una foto",
    dropLabel: "foto: haz clic, suelta o pega", region: "arrastra sobre la foto para buscar una zona",
    remove: "quitar la foto", words: "palabras de búsqueda", placeholder: "p. ej. sudadera roja a rayas",
    min: "mín.", max: "máx.", sort: "orden", relevance: "más relevantes", price_asc: "precio: de menor a mayor",
    price_desc: "precio: de mayor a menor", go: "Buscar", categories: "Categorías", showMore: "Ver más",
    allCategories: "Todas las categorías", need: "Añade una foto o unas palabras, o elige una categoría.",
    searching: "Buscando…", error: (m) => `Error: ${m}`,
    byPrice: (shown, n) => `${shown} de ${n} resultados relevantes por precio`,
    matching: (shown, n) => `${shown} de ${n} productos`, asTyped: "buscar las palabras tal cual",
    more: "Similares", moreLabel: (title) => `Similares a ${title}`,
    dups: (n) => `+${n} anuncio${n > 1 ? "s" : ""} más con esta foto`, refine: "Afinar: ",
    prices: (a, b) => ` precios ${a}–${b}`, from: (x) => `desde ${x}`, upTo: (x) => `hasta ${x}`,
    around: (x) => `alrededor de ${x}`, cheapest: "más baratos primero", dearest: "más caros primero",
    price: (parts) => ` · precio ${parts} (según tus palabras)`, typed: (w) => `escribiste ${w}`,
    shopWords: (w) => `palabras de la tienda: ${w}`, showing: (text, why) => ` · resultados de «${text}» (${why})`,
    looking: (w) => ` · buscando en: ${w}`, none: (w) => ` · ningún ${w} con estos filtros: los más cercanos`,
    colour: (c) => ` · color: ${c}`, readAs: (w) => ` (leído como «${w}»)`, kind: (w) => ` · tipo de producto: ${w}`,
    shows: (t) => ` · tu foto muestra: ${t}`, pointed: (w) => ` · buscado solo por tu foto («${w}» se refiere a ella)`,
    cheaper: (t, p) => ` · más barato que ${t} (${p})`, dearer: (t, p) => ` · más caro que ${t} (${p})`,
    cheaperLike: "Similares más baratos", cheaperLabel: (title) => `Productos más baratos como ${title}`,
    cheaperFound: (n, title, price) => `${n} como ${title}, más baratos que ${price}`,
  },
};

const LANG = (() => {
  const asked = new URLSearchParams(location.search).get("lang");
  const wanted = [asked, ...(navigator.languages || [navigator.language])].filter(Boolean);
  return wanted.map((l) => l.toLowerCase().split("-")[0]).find((l) => Object.hasOwn(STRINGS, l)) || "en";
})();

function t(key, ...values) {
  const s = STRINGS[LANG][key] ?? STRINGS.en[key];
  return typeof s === "function" ? s(...values) : s;
}

document.documentElement.lang = LANG;
for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
