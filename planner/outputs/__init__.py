"""What a solved plan becomes: the summary, the bill of materials, the files and figures."""
