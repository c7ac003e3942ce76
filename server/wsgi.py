"""gunicorn entry point: ``gunicorn server.wsgi:app`` (reads SHOPSIGHT_CONFIG_JSON or SHOPSIGHT_CONFIG, and SHOPSIGHT_DATA_DIR).

Each worker opens the engine and warms its towers when it starts, not on its first request.
"""

import engine  # noqa: F401  (sets BLAS threads before numpy loads)

from . import create_app
from .state import get_engine

app = create_app()
with app.app_context():
    get_engine()
