// Briefing search: runs the Pagefind index that `briefing build` wrote under pagefind/, in the browser.
// No server and no external request. The bundle is found relative to this page and result
// links are resolved against the site's root, so search works under any sub-path. A page opened
// as a file cannot import modules, so this never runs there and the page's note stays.
const config = document.querySelector("script[data-bundle]");
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const MAX_RESULTS = 30;
const bundle = new URL(config.dataset.bundle, location.href).href;
const root = new URL(".", new URL(config.dataset.root, location.href));
let pagefind = null;
let latest = 0;

document.getElementById("search-offline")?.remove();

// A large site's index comes in parts (briefing-parts.json beside pagefind.js lists the others):
// Pagefind searches them all and gives one list of results, by score. Loaded once, when first needed.
function load() {
  pagefind ??= (async () => {
    const options = { baseUrl: root.pathname, excerptLength: 24 };
    const listed = await fetch(new URL("briefing-parts.json", bundle));
    if (!listed.ok) throw new Error(`briefing-parts.json: HTTP ${listed.status}`);
    const { parts } = await listed.json();
    const engine = await import(bundle);
    await engine.options(options);
    await engine.init();
    for (const part of parts) await engine.mergeIndex(new URL(part, bundle).pathname, options);
    return engine;
  })();
  return pagefind;
}

// Copy Pagefind's excerpt keeping only its text and <mark> highlights; nothing else can get in.
function excerpt(html) {
  const parsed = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  const out = document.createElement("p");
  out.className = "excerpt";
  const copy = (from, to) => {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(node.textContent);
      } else if (node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        to.append(mark);
      } else {
        copy(node, to);
      }
    }
  };
  copy(parsed.body, out);
  return out;
}

function result(data) {
  const item = document.createElement("li");
  const article = document.createElement("article");
  article.className = "search-result";
  if (data.meta.kind) {
    const kind = document.createElement("p");
    kind.className = "kicker";
    kind.textContent = data.meta.kind;
    article.append(kind);
  }
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  heading.append(link);
  article.append(heading);
  if (data.meta.summary) {
    const summary = document.createElement("p");
    summary.className = "summary-line";
    summary.textContent = data.meta.summary;
    article.append(summary);
  }
  article.append(excerpt(data.excerpt));
  item.append(article);
  return item;
}

async function run(query) {
  const ticket = ++latest;
  const url = new URL(location.href);
  if (query) url.searchParams.set("q", query);
  else url.searchParams.delete("q");
  history.replaceState(null, "", url);
  if (!query.trim()) {
    list.replaceChildren();
    status.textContent = "";
    return;
  }
  status.textContent = "Searching…";
  try {
    const engine = await load();
    const search = await engine.search(query);
    const found = await Promise.all(search.results.slice(0, MAX_RESULTS).map((r) => r.data()));
    if (ticket !== latest) return;
    list.replaceChildren(...found.map(result));
    const count = search.results.length;
    status.textContent = count === 0 ? `No results for “${query}”.` : `${count} result${count === 1 ? "" : "s"} for “${query}”${count > MAX_RESULTS ? `, the first ${MAX_RESULTS} shown` : ""}.`;
  } catch (error) {
    if (ticket !== latest) return;
    status.textContent = `Search could not load its index (${error.message}).`;
  }
}

let timer = 0;
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => run(input.value), 200);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  run(input.value);
});

const initial = new URL(location.href).searchParams.get("q") || "";
if (initial) {
  input.value = initial;
  run(initial);
}
