// The query pages: run the form's query on /sparql or /graphql and show the answer as
// a table (SPARQL) or JSON (GraphQL); every value goes in as text.
"use strict";

function table(head, rows) {
  const t = document.createElement("table");
  const thead = t.createTHead().insertRow();
  head.forEach((name) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    thead.appendChild(th);
  });
  const body = t.createTBody();
  rows.forEach((row) => {
    const tr = body.insertRow();
    row.forEach((value) => { tr.insertCell().textContent = value; });
  });
  return t;
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("query-form");
  if (!form) return;
  const text = document.getElementById("query-text");
  const out = document.getElementById("query-result");
  document.getElementById("example").addEventListener("change", (event) => {
    if (event.target.value) text.value = event.target.value;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.replaceChildren(document.createTextNode("running…"));
    try {
      let response;
      if (form.dataset.kind === "sparql") {
        response = await fetch(form.dataset.endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/sparql-query", Accept: "application/sparql-results+json" },
          body: text.value,
        });
      } else {
        response = await fetch(form.dataset.endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ query: text.value }),
        });
      }
      const body = await response.text();
      if (!response.ok) {
        const pre = document.createElement("pre");
        pre.textContent = response.status + " " + body;
        out.replaceChildren(pre);
        return;
      }
      if (form.dataset.kind === "sparql") {
        const data = JSON.parse(body);
        if (data.head && data.head.vars) {
          const rows = data.results.bindings.map((b) => data.head.vars.map((v) => (b[v] ? b[v].value : "")));
          const count = document.createElement("p");
          count.textContent = rows.length + " row" + (rows.length === 1 ? "" : "s");
          out.replaceChildren(count, table(data.head.vars, rows));
        } else {
          out.replaceChildren(document.createTextNode(String(data.boolean)));
        }
      } else {
        const pre = document.createElement("pre");
        pre.textContent = JSON.stringify(JSON.parse(body), null, 2);
        out.replaceChildren(pre);
      }
    } catch (error) {
      out.replaceChildren(document.createTextNode(String(error)));
    }
  });
});
