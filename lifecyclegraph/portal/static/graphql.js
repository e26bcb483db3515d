// The GraphQL page: GraphiQL (vendored with React, static/vendor/graphiql/ and
// static/vendor/react/) on this server's /graphql.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("graphiql");
  if (!root || typeof GraphiQL === "undefined") return;
  const url = new URL(root.dataset.endpoint, window.location.href).href;
  const fetcher = GraphiQL.createFetcher({ url });
  const app = ReactDOM.createRoot(root);
  const render = (query) =>
    app.render(React.createElement(GraphiQL, { fetcher, defaultQuery: root.dataset.query, query }));
  render(undefined);
  document.getElementById("example").addEventListener("change", (event) => {
    render(event.target.value);
  });
  // GraphiQL's editors (CodeMirror) have unlabelled text areas: name them for screen
  // readers as they appear (the query, variables, headers and response editors)
  const names = ["GraphQL query", "Variables", "Headers", "Response"];
  const label = () =>
    root.querySelectorAll(".CodeMirror textarea:not([aria-label])").forEach((area) => {
      const editor = area.closest(".graphiql-editor");
      const all = Array.from(root.querySelectorAll(".graphiql-editor"));
      const name = area.readOnly ? "Response" : names[all.indexOf(editor)] || "Editor";
      area.setAttribute("aria-label", name);
    });
  new MutationObserver(label).observe(root, { childList: true, subtree: true });
  label();
  root.dataset.ready = "1";
});
