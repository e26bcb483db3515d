"""The read side above the graph: JSON views of entities and the GraphQL API."""
