"""What the HTTP API's tests share: a test client on a copy of the built shop, its API key, validation of a
response against the OpenAPI description's schemas, and photos to upload."""

import base64
import io
import json
import shutil
from dataclasses import replace

import jsonschema
import pytest
from PIL import Image

from server import create_app
from server.openapi import SPEC

KEY = "test-key-123"


@pytest.fixture()
def client(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop")
    app = create_app(replace(built_shop, data_dir=str(tmp_path / "shop")), api_key=KEY)
    return app.test_client()


def _schema(name):
    return {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}


def validate(body, name):
    resolver_schema = {"$defs": {}, **_schema(name)}
    jsonschema.validate(body, _fix_refs(resolver_schema))


def _fix_refs(schema):
    text = json.dumps(schema).replace("#/components/schemas/", "#/components/schemas/")
    return json.loads(text)


def png(colour="red", size=(40, 40)) -> bytes:
    """A one-colour PNG, as a client would upload it."""
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
