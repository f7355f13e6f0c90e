"""Services: between the edges (CLI, web) and the pipeline; the layer that runs queries."""
