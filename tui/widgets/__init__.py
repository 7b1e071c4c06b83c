"""Widgets the panes are built from (the site form)."""
