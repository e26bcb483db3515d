"""The bottom layer: errors, vocabulary, URIs, facts, events, ontology, configuration and
the plugin registries. Nothing here imports another layer of lifecyclegraph.

This package re-exports nothing, so that importing one of its modules stays cheap.
"""
