"""gunicorn entry point: ``gunicorn server.wsgi:app`` (reads SHOPSIGHT_DATA_DIR / SHOPSIGHT_CONFIG)."""

from . import create_app

app = create_app()
