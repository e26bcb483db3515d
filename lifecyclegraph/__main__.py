"""``python -m lifecyclegraph``: the same as the ``lifecyclegraph`` command."""

from lifecyclegraph.cli import main

main()
