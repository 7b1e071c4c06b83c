"""Textual app for the planner (imports planner; planner never imports tui)."""
