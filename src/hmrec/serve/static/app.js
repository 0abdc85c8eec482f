// hmrec's page: plain JavaScript over the JSON API (/v1), no build step, no network beyond this service.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { models: [], customer: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function fmtPrice(value) { return value == null ? "" : Number(value).toFixed(4); }
function fmtScore(value) { return value == null ? "" : Number(value).toPrecision(4); }

function articleRow(article, right) {
  const link = el("a", { href: `#/article/${article.article_id}` }, article.prod_name ?? article.name ?? article.article_id);
  return el("li", {},
    el("span", { class: "swatch", style: `background:${article.colour_hex}`, title: article.colour_group_name ?? article.colour ?? "" }),
    el("span", { class: "name" }, link),
    right,
    el("span", { class: "meta" },
      [article.product_type_name ?? article.product_type, article.colour_group_name ?? article.colour, article.article_id].filter(Boolean).join(" · ")));
}

// ------------------------------------------------------------------ the customer view
function renderProfile(data) {
  const p = data.profile;
  const facts = [
    ["age", p.age ?? "unknown"], ["club", p.club_member_status ?? "—"], ["news", p.fashion_news_frequency ?? "—"],
    ["purchases", p.n_purchases], ["articles", p.n_articles],
    ["first purchase", p.first_purchase ?? "—"], ["last purchase", p.last_purchase ?? "—"],
  ];
  $("profile").replaceChildren(
    el("h3", {}, `Customer ${data.customer_id}`),
    el("dl", { class: "facts" }, ...facts.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v)))));
  $("purchases").replaceChildren(...data.recent_purchases.map((a) =>
    articleRow(a, el("span", { class: "right" }, a.date, el("br"), `paid ${fmtPrice(a.paid)}`))));
  if (!data.recent_purchases.length) $("purchases").append(el("li", { class: "empty" }, "No purchases."));
}

function renderRecs(side, data) {
  $(`name-${side}`).textContent = data.model;
  $(`note-${side}`).textContent = data.known ? (data.cold_start ? "No history: the model's cold start." : "")
    : "A customer hmrec does not know: the model's cold start.";
  $(`recs-${side}`).replaceChildren(...data.items.map((item) => {
    const row = articleRow(item, el("span", { class: "right" },
      el("span", { class: "score", title: "the model's score" }, `score ${fmtScore(item.score)}`), el("br"),
      el("span", { class: `badge ${item.source}`, title: "where this recommendation comes from" }, item.source), el("br"),
      `price ${fmtPrice(item.price)}`));
    row.classList.add("rec");
    return row;
  }));
}

async function showCustomer(customerId) {
  showError("");
  state.customer = customerId;
  $("customer-id").value = customerId;
  const modelA = $("model-a").value, modelB = $("model-b").value;
  const recs = (model) => api(`/v1/customers/${encodeURIComponent(customerId)}/recommendations?k=12&model=${encodeURIComponent(model)}`);
  try {
    const [profile, a, b] = await Promise.all([
      api(`/v1/customers/${encodeURIComponent(customerId)}`).catch((err) => ({ error: err.message })),
      recs(modelA),
      modelB ? recs(modelB) : Promise.resolve(null),
    ]);
    if (profile.error) {
      $("profile").replaceChildren(el("h3", {}, `Customer ${customerId}`), el("p", {}, "Not a known customer: no profile or purchases."));
      $("purchases").replaceChildren();
    } else {
      renderProfile(profile);
    }
    renderRecs("a", a);
    $("column-b").hidden = !b;
    if (b) renderRecs("b", b);
    show("customer-view");
  } catch (err) {
    showError(err.message);
  }
}

// ------------------------------------------------------------------ the article view
function salesChart(weeks) {
  const w = 640, h = 200, pad = 28;
  const max = Math.max(1, ...weeks.map((x) => x.sales));
  const step = (w - 2 * pad) / Math.max(1, weeks.length - 1);
  const points = weeks.map((x, i) => `${(pad + i * step).toFixed(1)},${(h - pad - (x.sales / max) * (h - 2 * pad)).toFixed(1)}`);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text != null) node.textContent = text;
    svg.append(node);
  };
  add("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#bbb" });
  if (points.length) {
    add("polygon", { points: `${pad},${h - pad} ${points.join(" ")} ${w - pad},${h - pad}`, fill: "#c8102e22" });
    add("polyline", { points: points.join(" "), fill: "none", stroke: "#c8102e", "stroke-width": 2 });
    add("text", { x: pad, y: h - 8, "font-size": 11, fill: "#666" }, weeks[0].week_end);
    add("text", { x: w - pad, y: h - 8, "font-size": 11, fill: "#666", "text-anchor": "end" }, weeks[weeks.length - 1].week_end);
  }
  add("text", { x: pad, y: 16, "font-size": 11, fill: "#666" }, `max ${max} per week`);
  return svg;
}

async function showArticle(articleId) {
  showError("");
  try {
    const a = await api(`/v1/articles/${encodeURIComponent(articleId)}`);
    const facts = [
      ["type", a.product_type_name], ["group", a.product_group_name], ["colour", a.colour_group_name],
      ["department", a.department_name], ["index", a.index_group_name], ["price", fmtPrice(a.price)],
      ["sales", a.n_sales], ["buyers", a.n_buyers], ["online", a.online_share == null ? "—" : `${Math.round(a.online_share * 100)}%`],
      ["first sold", a.first_sold ?? "—"], ["last sold", a.last_sold ?? "—"],
    ];
    $("article-card").replaceChildren(
      el("h3", {}, el("span", { class: "swatch", style: `display:inline-block;vertical-align:middle;margin-right:8px;background:${a.colour_hex}` }),
        `${a.prod_name ?? a.article_id} (${a.article_id})`),
      el("p", {}, a.detail_desc ?? ""),
      el("dl", { class: "facts" }, ...facts.filter(([, v]) => v != null).map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v)))));
    $("sales-chart").replaceChildren(salesChart(a.weekly_sales));
    const total = Math.max(1, ...Object.values(a.buyers_by_age));
    $("buyers").replaceChildren(...Object.entries(a.buyers_by_age).map(([bucket, n]) =>
      el("div", { class: "bar" }, el("span", {}, bucket), el("span", { class: "fill", style: `width:${(100 * n) / total}%` }), el("span", {}, n))));
    $("back").setAttribute("href", state.customer ? `#/customer/${state.customer}` : "#/");
    show("article-view");
    await Promise.all([["together", "bought-together"], ["similar", "similar"]].map(([id, kind]) => showList(id, articleId, kind)));
  } catch (err) {
    showError(err.message);
  }
}

// one of the article's lists; a list the service cannot give (an unsold article, an older bundle) says why
async function showList(id, articleId, kind) {
  const model = $("model-a").value;
  try {
    const data = await api(`/v1/articles/${encodeURIComponent(articleId)}/similar?k=12&kind=${kind}&model=${encodeURIComponent(model)}`);
    $(id).replaceChildren(...data.items.map((item) =>
      articleRow(item, el("span", { class: "right" }, el("span", { class: "score", title: "the list's score" }, `score ${fmtScore(item.score)}`)))));
    if (!data.items.length) $(id).append(el("li", { class: "empty" }, "No articles."));
  } catch (err) {
    $(id).replaceChildren(el("li", { class: "empty" }, err.message));
  }
}

// ------------------------------------------------------------------ navigation
function show(view) {
  for (const id of ["welcome", "customer-view", "article-view"]) $(id).hidden = id !== view;
}

function route() {
  const [, kind, id] = location.hash.split("/");
  if (kind === "customer" && id) showCustomer(decodeURIComponent(id));
  else if (kind === "article" && id) showArticle(decodeURIComponent(id));
  else show("welcome");
}

async function init() {
  try {
    const info = await api("/v1/models");
    state.models = info.models;
    $("model-a").replaceChildren(...info.models.map((m) => el("option", { value: m.name }, m.name)));
    $("model-b").replaceChildren(el("option", { value: "" }, "—"), ...info.models.map((m) => el("option", { value: m.name }, m.name)));
    if (info.models.length > 1) $("model-b").value = info.models[1].name;
    const m = info.models[0];
    $("service-info").textContent = `${info.models.length} model(s) loaded; ${m.n_customers.toLocaleString()} customers, ` +
      `${m.n_articles.toLocaleString()} articles, data up to ${m.data_end}.`;
  } catch (err) {
    showError(err.message);
  }
  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("customer-id").value.trim();
    if (!id) return showError("customer_id: type a customer id first");
    if (location.hash === `#/customer/${id}`) showCustomer(id);
    else location.hash = `#/customer/${id}`;
  });
  $("random").addEventListener("click", async () => {
    try {
      const pick = await api(`/v1/customers/random?model=${encodeURIComponent($("model-a").value)}`);
      location.hash = `#/customer/${pick.customer_id}`;
    } catch (err) {
      showError(err.message);
    }
  });
  for (const id of ["model-a", "model-b"]) $(id).addEventListener("change", () => { if (state.customer && !$("customer-view").hidden) showCustomer(state.customer); });
  window.addEventListener("hashchange", route);
  route();
}

init();
