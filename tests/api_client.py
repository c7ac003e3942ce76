"""What the HTTP API's tests share: a test client on a copy of the built shop, its API key, and
validation of a response against the OpenAPI description's schemas."""

import json
import shutil
from dataclasses import replace

import jsonschema
import pytest

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
