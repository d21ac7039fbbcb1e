"""The demo program ``manage.py load_demo`` builds: its content (``content/``,
read by ``content.py``) and the code that builds it (``builder.py``,
``history.py``)."""
