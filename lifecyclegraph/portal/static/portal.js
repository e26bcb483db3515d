// The portal's behaviour: search suggestions as you type (an ARIA combobox over
// GET /api/v1/search) and the copy buttons. Everything from the server is put in the
// page as text (textContent), never as HTML, except the <mark> of highlights, which
// is rebuilt from text nodes.
"use strict";

function markedNodes(text) {
  // "a <mark>b</mark> &lt;c&gt;" (escaped by the server) as DOM nodes, marks kept.
  const out = document.createDocumentFragment();
  const parts = text.split(/(<\/?mark>)/);
  let inMark = false;
  const decoder = document.createElement("textarea");
  for (const part of parts) {
    if (part === "<mark>") { inMark = true; continue; }
    if (part === "</mark>") { inMark = false; continue; }
    decoder.innerHTML = part;  // a textarea's content is text: this only decodes entities
    const node = document.createTextNode(decoder.value);
    if (inMark) {
      const mark = document.createElement("mark");
      mark.appendChild(node);
      out.appendChild(mark);
    } else {
      out.appendChild(node);
    }
  }
  return out;
}

function setUpSuggestions() {
  const input = document.getElementById("q");
  const list = document.getElementById("suggestions");
  if (!input || !list) return;
  let active = -1;
  let timer = null;
  let asked = 0;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const items = list.querySelectorAll("[role=option]");
    items.forEach((item, n) => item.setAttribute("aria-selected", n === index ? "true" : "false"));
    active = index;
    if (index >= 0 && items[index]) {
      input.setAttribute("aria-activedescendant", items[index].id);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  async function suggest() {
    const text = input.value.trim();
    if (text.length < 2) { close(); return; }
    const ticket = ++asked;
    const params = new URLSearchParams({ q: text, page_size: "8", facets: "false" });
    let data;
    try {
      const response = await fetch("/api/v1/search?" + params, { headers: { Accept: "application/json" } });
      if (!response.ok) { close(); return; }
      data = await response.json();
    } catch (error) {
      close();
      return;
    }
    if (ticket !== asked) return;  // a newer request is on its way
    list.replaceChildren();
    data.hits.forEach((hit, n) => {
      const item = document.createElement("li");
      item.id = "suggestion-" + n;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.uri = hit.uri;
      const name = document.createElement("span");
      name.className = "suggestion-name";
      const marked = (hit.highlights && hit.highlights.name) || "";
      if (marked) { name.appendChild(markedNodes(marked)); } else { name.textContent = hit.name; }
      const type = document.createElement("span");
      type.className = "suggestion-type";
      type.textContent = hit.type;
      item.append(name, " ", type);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); open(hit.uri); });
      list.appendChild(item);
    });
    const any = data.hits.length > 0;
    list.hidden = !any;
    input.setAttribute("aria-expanded", any ? "true" : "false");
    active = -1;
  }

  function open(uri) {
    window.location.href = "/portal/entity?" + new URLSearchParams({ uri: uri });
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  input.addEventListener("keydown", (event) => {
    const items = list.querySelectorAll("[role=option]");
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      highlight((active - 1 + items.length) % items.length);
    } else if (event.key === "Enter" && active >= 0 && items[active]) {
      event.preventDefault();
      open(items[active].dataset.uri);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

function setUpCopyButtons() {
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const status = button.parentElement.querySelector(".copied");
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        if (status) status.textContent = "copied";
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById("entity-uri"));
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        if (status) status.textContent = "selected: press Ctrl+C";
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSuggestions();
  setUpCopyButtons();
});
