"""The site file: its one declaration (schema), loading with file/key/line errors, and its text as the TUI edits it."""
