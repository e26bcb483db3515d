// The SPARQL page: YASGUI (vendored, static/vendor/yasgui/) on this server's /sparql.
// Nothing leaves the app: one tab, no endpoint catalogue, no CORS proxy, and only the
// autocompleter that works offline (variables; the prefix and LOV ones call the web).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("yasgui");
  if (!root || typeof Yasgui === "undefined") return;
  const endpoint = new URL(root.dataset.endpoint, window.location.href).href;
  const yasgui = new Yasgui(root, {
    persistenceId: null,
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint }] },
    requestConfig: { endpoint, method: "POST" },
    yasqe: { value: root.dataset.query, autocompleters: ["variables"], persistenceId: null },
    yasr: { persistenceId: null, prefixes: {} },
  });
  const example = document.getElementById("example");
  example.addEventListener("change", () => {
    const tab = yasgui.getTab();
    if (tab && example.value) tab.getYasqe().setValue(example.value);
  });
  // YASGUI's own inputs have no label: name them for screen readers
  const label = (selector, name) =>
    root.querySelectorAll(selector).forEach((el) => el.setAttribute("aria-label", name));
  label(".CodeMirror textarea", "SPARQL query");
  label("input.autocomplete", "SPARQL endpoint");
  root.dataset.ready = "1";
});
