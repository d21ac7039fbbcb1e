"""Management commands for the website app: ``load_demo`` and ``ensure_admin``."""
