"""The shopper's web page, and the headers every response carries.

The page shows what a catalogue says (titles, attributes, links from a shop's feed); it writes them as text,
never as markup, and its Content-Security-Policy lets it run only its own script and load only its own files
(photos as data: or blob: addresses included), so a catalogue value that is markup could not run even if a
later change wrote one as such. Every response is ``nosniff``: a photo is served as the type its name says.
"""

from flask import Blueprint, Flask, render_template

bp = Blueprint("pages", __name__)

PAGE_POLICY = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'")


@bp.get("/")
def index():
    return render_template("index.html")


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
