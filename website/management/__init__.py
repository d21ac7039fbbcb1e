"""Management commands for the website app."""
