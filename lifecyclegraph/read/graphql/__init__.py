"""GraphQL over the graph: the schema made from the ontology, its reads, and its limits."""
