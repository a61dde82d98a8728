"""What happens on a node: executors, node file trees, resource and output files."""
