// <instagram-gallery feed="SLUG">: the gallery of one feed, from our own API and storage.
// No dependency, no build step. Attributes override the feed's display defaults.
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;

const STRINGS = {
  en: {
    more: "Load more", close: "Close", prev: "Previous", next: "Next",
    likes: (n) => `${n} likes`, comments: (n) => `${n} comments`,
    follow: "Follow on Instagram", view: "View on Instagram",
    followers: (n) => `${n} followers`, error: "The gallery could not be loaded.",
    label: (t) => `Instagram gallery: ${t}`, item: (i, n) => `${i} of ${n}`,
  },
  fr: {
    more: "Voir plus", close: "Fermer", prev: "Précédent", next: "Suivant",
    likes: (n) => `${n} j’aime`, comments: (n) => `${n} commentaires`,
    follow: "Suivre sur Instagram", view: "Voir sur Instagram",
    followers: (n) => `${n} abonnés`, error: "La galerie n’a pas pu être chargée.",
    label: (t) => `Galerie Instagram : ${t}`, item: (i, n) => `${i} sur ${n}`,
  },
};

const CSS = `
:host{display:block;container-type:inline-size;--ig-gap:8px;--ig-radius:4px;--ig-fg:#1a1a1a;
--ig-bg:transparent;--ig-muted:#555;--ig-accent:#0b57d0;--ig-accent-fg:#fff;--ig-overlay:rgba(0,0,0,.66);
--ig-focus:#0b57d0;--ig-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--ig-font-size:16px}
:host([hidden]){display:none}
*{box-sizing:border-box}
.root{font:var(--ig-font-size)/1.45 var(--ig-font);color:var(--ig-fg);background:var(--ig-bg);text-align:start}
header{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:0 0 12px}
header img{width:56px;height:56px;border-radius:50%;object-fit:cover;display:block}
.who{flex:1 1 12em;min-width:0}.who strong{display:block;font-size:1.1em}.who p{margin:2px 0 0;color:var(--ig-muted);font-size:.9em}
a,button{font:inherit;color:inherit}
.follow,.more{display:inline-block;padding:8px 16px;border-radius:999px;border:0;background:var(--ig-accent);
color:var(--ig-accent-fg);text-decoration:none;cursor:pointer;font-weight:600;font-size:.95em;min-height:44px;line-height:28px}
ul{list-style:none;margin:0;padding:0;display:grid;gap:var(--gap,var(--ig-gap));grid-template-columns:repeat(var(--cols-phone,2),minmax(0,1fr))}
@container (min-width:600px){ul{grid-template-columns:repeat(var(--cols-tablet,3),minmax(0,1fr))}}
@container (min-width:1024px){ul{grid-template-columns:repeat(var(--cols-desktop,4),minmax(0,1fr))}}
li{position:relative;min-width:0}
.tile{display:block;width:100%;padding:0;border:0;background:none;cursor:pointer;position:relative;border-radius:var(--ig-radius);overflow:hidden;text-align:start}
.tile img{display:block;width:100%;height:auto;aspect-ratio:var(--ar);object-fit:cover}
.grid .tile img,.highlight .tile img,.carousel .tile img{aspect-ratio:1}
.highlight li:first-child{grid-column:span 2;grid-row:span 2}
.masonry{display:block;columns:var(--cols-phone,2);column-gap:var(--gap,var(--ig-gap))}
@container (min-width:600px){.masonry{columns:var(--cols-tablet,3)}}
@container (min-width:1024px){.masonry{columns:var(--cols-desktop,4)}}
.masonry li{break-inside:avoid;margin-bottom:var(--gap,var(--ig-gap))}
.carousel{display:flex;overflow-x:auto;scroll-snap-type:x mandatory;padding-bottom:4px}
.carousel li{flex:0 0 calc((100% - (var(--cols-phone,2) - 1) * var(--gap,var(--ig-gap))) / var(--cols-phone,2));scroll-snap-align:start}
@container (min-width:600px){.carousel li{flex-basis:calc((100% - (var(--cols-tablet,3) - 1) * var(--gap,var(--ig-gap))) / var(--cols-tablet,3))}}
@container (min-width:1024px){.carousel li{flex-basis:calc((100% - (var(--cols-desktop,4) - 1) * var(--gap,var(--ig-gap))) / var(--cols-desktop,4))}}
.overlay{position:absolute;inset:auto 0 0 0;padding:8px;background:var(--ig-overlay);color:#fff;font-size:.85em;
opacity:0;transition:opacity .2s;max-height:60%;overflow:hidden}
.tile:hover .overlay,.tile:focus-visible .overlay{opacity:1}
.overlay span{display:block;overflow:hidden;text-overflow:ellipsis;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical}
.counts{font-weight:600}
:focus-visible{outline:3px solid var(--ig-focus);outline-offset:2px}
.footer{text-align:center;margin-top:12px}
.error{color:#a00}
dialog{border:0;padding:0;max-width:min(960px,96vw);max-height:94vh;width:100%;border-radius:8px;background:#fff;color:#111;font:var(--ig-font-size)/1.45 var(--ig-font)}
dialog::backdrop{background:rgba(0,0,0,.8)}
.box{display:flex;flex-direction:column;max-height:94vh}
.stage{position:relative;background:#000;display:flex;align-items:center;justify-content:center;min-height:200px}
.stage img,.stage video{max-width:100%;max-height:70vh;width:auto;height:auto;display:block}
.info{padding:12px 16px;overflow:auto}.info p{margin:0 0 8px;white-space:pre-line}
.bar{display:flex;gap:8px;align-items:center;justify-content:space-between;padding:8px 16px;border-top:1px solid #ddd;flex-wrap:wrap}
.bar button{min-width:44px;min-height:44px;border:1px solid #888;border-radius:6px;background:#fff;color:#111;cursor:pointer;padding:0 12px}
.bar a{color:#0b57d0}
.pos{color:#444;font-size:.9em}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important;scroll-behavior:auto!important}}
`;

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
};

const bool = (value, fallback) => (value == null ? fallback : !["false", "0", "no", "off"].includes(value));

class InstagramGallery extends HTMLElement {
  static observedAttributes = ["feed", "api", "layout", "columns", "limit", "category", "gap",
    "captions", "counts", "header", "lightbox", "lang"];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.posts = [];
    this.seen = new Set();
  }

  connectedCallback() {
    this.onVisible = () => document.visibilityState === "visible" && this.load(true);
    document.addEventListener("visibilitychange", this.onVisible);
    this.load(false);
  }

  disconnectedCallback() {
    document.removeEventListener("visibilitychange", this.onVisible);
  }

  attributeChangedCallback(_name, before, after) {
    if (this.isConnected && before !== after && this.data) this.load(false);
  }

  get t() {
    const lang = (this.getAttribute("lang") || document.documentElement.lang || navigator.language || "en").slice(0, 2);
    this.lang = STRINGS[lang] ? lang : "en";
    return STRINGS[this.lang];
  }

  url() {
    const api = (this.getAttribute("api") || SCRIPT_ORIGIN).replace(/\/$/, "");
    const url = new URL(`${api}/api/v1/feeds/${encodeURIComponent(this.getAttribute("feed") || "")}`);
    for (const name of ["limit", "category"]) {
      if (this.getAttribute(name)) url.searchParams.set(name, this.getAttribute(name));
    }
    return url;
  }

  async fetchJSON(url) {
    // no-cache: the browser revalidates with If-None-Match; an unchanged feed is a bodiless 304.
    const response = await fetch(url, { cache: "no-cache", credentials: "omit" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return [await response.json(), response.headers.get("ETag")];
  }

  async load(revalidate) {
    try {
      const [data, etag] = await this.fetchJSON(this.url());
      if (revalidate && etag && etag === this.etag) return;
      this.etag = etag;
      this.data = data;
      this.posts = [];
      this.seen = new Set();
      this.add(data.posts);
      this.render();
    } catch (error) {
      if (revalidate && this.data) return;
      this.root.replaceChildren(el("style", { text: CSS }),
        el("div", { class: "root" }, el("p", { class: "error", role: "alert", part: "error", text: this.t.error })));
      this.dispatchEvent(new CustomEvent("instagram-gallery:error", { detail: String(error) }));
    }
  }

  add(page) {
    // Never twice, even if the feed changed between pages.
    const fresh = page.items.filter((post) => !this.seen.has(post.id));
    fresh.forEach((post) => this.seen.add(post.id));
    this.posts.push(...fresh);
    this.next = page.next;
    return fresh;
  }

  async more(button) {
    button.disabled = true;
    try {
      const [page] = await this.fetchJSON(this.next);
      const start = this.posts.length;
      const fresh = this.add(page.posts);
      fresh.forEach((post, i) => this.list.append(this.tile(post, start + i)));
      if (!this.next) button.parentElement.remove();
      const first = this.list.children[start]?.querySelector(".tile");
      if (first) first.focus();
    } finally {
      button.disabled = false;
    }
  }

  options() {
    const d = this.data.display;
    const a = (name) => this.getAttribute(name);
    const cols = (a("columns") || "").trim().split(/\s+/).filter(Boolean).map(Number);
    const [phone, tablet, desktop] = cols.length === 1 ? [Math.min(cols[0], 2), Math.min(cols[0], 3), cols[0]]
      : cols.length === 3 ? cols : [d.columns.phone, d.columns.tablet, d.columns.desktop];
    return {
      layout: ["grid", "masonry", "carousel", "highlight"].includes(a("layout")) ? a("layout") : d.layout,
      phone, tablet, desktop,
      gap: a("gap") != null && !isNaN(parseInt(a("gap"))) ? parseInt(a("gap")) : d.gap,
      captions: bool(a("captions"), d.captions), counts: bool(a("counts"), d.counts),
      header: bool(a("header"), d.header), lightbox: bool(a("lightbox"), d.lightbox),
    };
  }

  render() {
    const o = (this.o = this.options());
    const t = this.t;
    const width = this.clientWidth || window.innerWidth;
    this.cols = width >= 1024 ? o.desktop : width >= 600 ? o.tablet : o.phone;
    this.sizes = `${Math.ceil((width - (this.cols - 1) * o.gap) / this.cols)}px`;
    const root = el("div", { class: "root", part: "root", lang: this.lang });
    if (o.header) root.append(...this.data.profiles.map((p) => this.header(p)));
    this.list = el("ul", {
      class: o.layout, part: "grid", "aria-label": t.label(this.data.title),
      style: `--cols-phone:${o.phone};--cols-tablet:${o.tablet};--cols-desktop:${o.desktop};--gap:${o.gap}px`,
    });
    this.posts.forEach((post, i) => this.list.append(this.tile(post, i)));
    root.append(this.list);
    if (this.next) {
      const button = el("button", { type: "button", class: "more", part: "more", text: t.more });
      button.addEventListener("click", () => this.more(button));
      root.append(el("div", { class: "footer" }, button));
    }
    this.dialog = null;
    this.root.replaceChildren(el("style", { text: CSS }), root);
    this.dispatchEvent(new CustomEvent("instagram-gallery:render", { detail: { count: this.posts.length } }));
  }

  header(p) {
    const t = this.t;
    const bits = [p.name || `@${p.username}`];
    return el("header", { part: "header" },
      p.avatar_url ? el("img", { src: p.avatar_url, alt: "", width: 56, height: 56, part: "avatar" }) : null,
      el("div", { class: "who" },
        el("strong", { part: "name", text: bits[0] }),
        el("p", { part: "username", text: `@${p.username}${p.followers_count != null ? " · " + t.followers(p.followers_count) : ""}` }),
        p.biography ? el("p", { part: "bio", text: p.biography }) : null),
      el("a", { class: "follow", part: "follow", href: p.profile_url, target: "_blank", rel: "noopener", text: t.follow }));
  }

  picture(image, eager, sizes) {
    const img = el("img", {
      src: image.urls.optimized || Object.values(image.urls)[0], srcset: image.srcset, sizes,
      width: image.width, height: image.height, alt: image.alt_text || "", part: "image",
      loading: eager ? "eager" : "lazy", decoding: "async", fetchpriority: eager ? "high" : null,
      style: `background:${image.color || "#ddd"};--ar:${image.width || 1}/${image.height || 1}`,
    });
    return el("picture", {},
      image.srcset_avif ? el("source", { type: "image/avif", srcset: image.srcset_avif, sizes }) : null,
      image.srcset ? el("source", { type: "image/webp", srcset: image.srcset, sizes }) : null, img);
  }

  counts(post) {
    const t = this.t;
    const bits = [];
    if (post.likes != null) bits.push(t.likes(post.likes));
    if (post.comments != null) bits.push(t.comments(post.comments));
    return bits.join(" · ");
  }

  tile(post, index) {
    const o = this.o;
    const overlay = el("span", { class: "overlay", part: "overlay", "aria-hidden": "true" });
    if (o.captions && post.caption) overlay.append(el("span", { part: "caption", text: post.caption }));
    const counts = o.counts ? this.counts(post) : "";
    if (counts) overlay.append(el("strong", { class: "counts", part: "counts", text: counts }));
    const body = [this.picture(post.image, index < this.cols, this.sizes), overlay.childNodes.length ? overlay : null];
    const tile = o.lightbox
      ? el("button", { type: "button", class: "tile", part: "tile", "data-id": post.id, onclick: () => this.open(index, tile) }, ...body)
      : el("a", { class: "tile", part: "tile", "data-id": post.id, href: post.permalink, target: "_blank", rel: "noopener" }, ...body);
    return el("li", { part: "item" }, tile);
  }

  open(index, opener) {
    this.opener = opener;
    if (!this.dialog) this.dialog = this.makeDialog();
    this.show(index, 0);
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector(".close").focus();
  }

  makeDialog() {
    const t = this.t;
    const dialog = el("dialog", { part: "dialog", "aria-labelledby": "ig-caption" });
    const button = (cls, label, text, onclick) => el("button", { type: "button", class: cls, part: cls, "aria-label": label, text, onclick });
    dialog.append(el("div", { class: "box" },
      el("div", { class: "stage", part: "stage" }),
      el("div", { class: "info" }, el("p", { id: "ig-caption", part: "dialog-caption" }),
        el("time", { part: "date" }), el("span", { class: "pos" })),
      el("div", { class: "bar" },
        button("prev", t.prev, "←", () => this.step(-1)),
        el("a", { class: "permalink", part: "permalink", target: "_blank", rel: "noopener", text: t.view }),
        button("next", t.next, "→", () => this.step(1)),
        button("close", t.close, "✕", () => dialog.close()))));
    dialog.addEventListener("close", () => {
      dialog.querySelector("video")?.pause();
      this.opener?.focus();
    });
    dialog.addEventListener("click", (event) => event.target === dialog && dialog.close());
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight") this.step(1);
      else if (event.key === "ArrowLeft") this.step(-1);
      else if (event.key === "Tab") this.trap(event);
      else return;
      if (event.key !== "Tab") event.preventDefault();
    });
    let startX = null;
    dialog.addEventListener("touchstart", (e) => (startX = e.touches[0].clientX), { passive: true });
    dialog.addEventListener("touchend", (e) => {
      const dx = e.changedTouches[0].clientX - (startX ?? e.changedTouches[0].clientX);
      if (Math.abs(dx) > 50) this.step(dx < 0 ? 1 : -1);
    });
    this.root.append(dialog);
    return dialog;
  }

  trap(event) {
    const focusable = [...this.dialog.querySelectorAll("button:not([disabled]),a[href],video[controls]")];
    const first = focusable[0], last = focusable[focusable.length - 1];
    const active = this.root.activeElement;
    if (event.shiftKey && active === first) { last.focus(); event.preventDefault(); }
    else if (!event.shiftKey && active === last) { first.focus(); event.preventDefault(); }
  }

  frames(post) {
    return post.children.length ? post.children : [post.image];
  }

  step(delta) {
    const frames = this.frames(this.posts[this.index]);
    const child = this.child + delta;
    if (child >= 0 && child < frames.length) return this.show(this.index, child);
    const index = this.index + delta;
    if (index < 0 || index >= this.posts.length) return;
    this.show(index, delta < 0 ? this.frames(this.posts[index]).length - 1 : 0);
  }

  show(index, child) {
    this.index = index;
    this.child = child;
    const t = this.t;
    const post = this.posts[index];
    const frames = this.frames(post);
    const frame = frames[child];
    const d = this.dialog;
    const stage = d.querySelector(".stage");
    stage.querySelector("video")?.pause();
    stage.replaceChildren(frame.video
      ? el("video", { src: frame.video.url, poster: frame.video.poster.large || frame.video.poster.optimized, controls: true,
        playsinline: true, preload: "metadata", width: frame.width, height: frame.height, part: "video", "aria-label": frame.alt_text })
      : this.picture(frame, true, "min(960px, 96vw)"));
    d.querySelector("#ig-caption").textContent = post.caption || post.alt_text || "";
    const time = d.querySelector("time");
    time.dateTime = post.posted_at;
    time.textContent = new Intl.DateTimeFormat(this.lang, { dateStyle: "long" }).format(new Date(post.posted_at));
    const counts = this.o.counts ? this.counts(post) : "";
    d.querySelector(".pos").textContent = [frames.length > 1 ? ` · ${t.item(child + 1, frames.length)}` : "", counts ? ` · ${counts}` : ""].join("");
    const link = d.querySelector(".permalink");
    if (post.permalink) link.href = post.permalink; else link.removeAttribute("href");
    d.querySelector(".prev").disabled = index === 0 && child === 0;
    d.querySelector(".next").disabled = index === this.posts.length - 1 && child === frames.length - 1;
  }
}

if (!customElements.get("instagram-gallery")) customElements.define("instagram-gallery", InstagramGallery);
