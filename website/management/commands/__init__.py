"""Management commands for the website app: ``manage.py load_demo``."""
