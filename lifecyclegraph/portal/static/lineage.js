// The lineage view: the entities and edges the server listed in the page (data-*
// attributes), drawn with the vendored cytoscape; upstream to the left, downstream to
// the right, one column per hop. Click (or Enter on the focused graph) opens a node.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("lineage-graph");
  if (!container || typeof cytoscape !== "function") return;
  const nodes = [];
  const columns = {};
  document.querySelectorAll("#lineage-root li, .lineage-nodes li[data-uri]").forEach((li) => {
    const depth = Number(li.dataset.depth);
    const column = li.dataset.direction === "upstream" ? -depth : depth;
    columns[column] = (columns[column] || 0) + 1;
    nodes.push({
      group: "nodes",
      data: { id: li.dataset.uri, label: li.dataset.name, colour: li.dataset.colour, root: depth === 0 },
      position: { x: column * 260, y: columns[column] * 70 },
    });
  });
  const known = new Set(nodes.map((n) => n.data.id));
  const edges = [];
  document.querySelectorAll("#lineage-edges li").forEach((li, n) => {
    if (known.has(li.dataset.from) && known.has(li.dataset.to)) {
      // drawn from what is depended on to what depends on it: data flows left to right
      edges.push({ group: "edges", data: { id: "e" + n, source: li.dataset.to, target: li.dataset.from } });
    }
  });
  const cy = cytoscape({
    container: container,
    elements: nodes.concat(edges),
    layout: { name: "preset", fit: true, padding: 40 },
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: {
        "background-color": "data(colour)", label: "data(label)", color: "#1b1b1b",
        "font-size": 12, "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22 } },
      { selector: "node[?root]", style: { "border-width": 4, "border-color": "#111", width: 30, height: 30 } },
      { selector: "edge", style: {
        width: 1.5, "line-color": "#888", "target-arrow-color": "#888",
        "target-arrow-shape": "triangle", "curve-style": "bezier" } },
    ],
  });
  cy.on("tap", "node", (event) => {
    window.location.href = "/portal/entity?" + new URLSearchParams({ uri: event.target.id() });
  });
  container.dataset.ready = String(cy.nodes().length);
});
