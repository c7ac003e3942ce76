"""The HTTP API on the shopper's words: typo corrections, the shop's synonyms, unheard words, refine
counts and search-as-you-type (engine/spelling.py, synonyms.py, unheard.py, refine.py, lexicon.py)."""

import jsonschema

from tests.api_client import KEY, client, validate as _validate  # noqa: F401 (client: the fixture)


def test_misspelt_words_are_corrected_and_reported(client):
    body = client.post("/api/search", json={"text": "red hodie", "k": 4}).get_json()
    _validate(body, "SearchResponse")
    assert body["understood"]["corrected"] == {"hodie": "hoodie"} and body["understood"]["text"] == "red hoodie"
    assert body["results"][0]["why"]["lexical"] > 0.9
    typed = client.post("/api/search", json={"text": "red hodie", "k": 4, "read_words": False}).get_json()
    assert typed["understood"] is None


def test_synonyms_are_read_by_anyone_and_replaced_with_the_key(client):
    assert client.get("/api/synonyms").get_json() == {"synonyms": "", "rules": 0, "equivalent_terms": 0}
    assert client.put("/api/synonyms", data="crimson => red").status_code == 401
    bad = client.put("/api/synonyms", data="crimson => red\na,,b", headers={"X-API-Key": KEY})
    assert bad.status_code == 400 and bad.get_json()["field"] == "synonyms" and "line 2" in bad.get_json()["error"]
    assert client.get("/api/synonyms").get_json()["synonyms"] == ""  # nothing written
    big = client.put("/api/synonyms", data="a, b\n" * 250_000, headers={"X-API-Key": KEY})  # 1.25 MB
    assert big.status_code == 400 and "larger than 1,000,000 bytes" in big.get_json()["error"]
    wrong = client.put("/api/synonyms", json={"rules": []}, headers={"X-API-Key": KEY})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "synonyms"
    ok = client.put("/api/synonyms", json={"synonyms": "crimson => red\njumpr, hoodie"}, headers={"X-API-Key": KEY})
    assert ok.status_code == 200 and ok.get_json()["rules"] == 1 and ok.get_json()["equivalent_terms"] == 2
    body = client.post("/api/search", json={"text": "crimson jumpr", "k": 3}).get_json()
    _validate(body, "SearchResponse")
    assert body["understood"]["synonyms"] == {"crimson": "red"} and body["understood"]["text"] == "red jumpr"
    hints = client.get("/api/suggest?q=crimson%20jumpr%20str").get_json()["suggestions"]
    assert hints and all(h["title"].lower().startswith("red striped") for h in hints)  # rule and group applied
    assert client.put("/api/synonyms", data="", headers={"X-API-Key": KEY}).get_json()["rules"] == 0


def test_unheard_words_are_listed_and_cleared_with_the_key(client):
    client.delete("/api/unheard", headers={"X-API-Key": KEY})
    for _ in range(2):
        client.post("/api/search", json={"text": "red trainers", "k": 2})
    assert client.get("/api/unheard").status_code == 401
    body = client.get("/api/unheard?k=5", headers={"X-API-Key": KEY}).get_json()
    near = body["words"][0]["near"]
    assert body == {"logging": True, "words": [{"word": "trainers", "n": 2, "last_seen": body["words"][0]["last_seen"],
                                                "near": near}]}
    leaves = {c.rsplit("/", 1)[-1] for c in client.get("/api/categories").get_json()}
    assert len(near) == 3 and set(near) <= leaves  # the shop's own category names, for a synonym to point at
    bad = client.get("/api/unheard?k=0", headers={"X-API-Key": KEY})
    assert bad.status_code == 400 and bad.get_json()["field"] == "k"
    assert client.delete("/api/unheard", headers={"X-API-Key": KEY}).get_json() == {"forgotten": 1}


def test_refine_counts_what_the_relevant_matches_hold(client):
    body = client.post("/api/search", json={"text": "striped hoodie", "k": 4}).get_json()
    _validate(body, "SearchResponse")
    refine = body["refine"]
    assert 4 <= refine["relevant"] <= 200 and sum(refine["categories"].values()) == refine["relevant"]
    assert refine["colours"] and all(n >= 1 for n in refine["colours"].values())
    assert refine["price"]["min"] <= min(r["product"]["price"] for r in body["results"]) <= refine["price"]["max"]
    blue = client.post("/api/search", json={"text": "striped hoodie", "k": 4,
                                            "filters": {"attributes": {"color": "Blue"}}}).get_json()  # either spelling
    assert blue["results"] and set(blue["refine"]["colours"]) == {"blue"}
    facets = refine["attributes"]  # the sample shop's "pattern" repeats; its Chinese titles, one each, are no facet
    assert set(facets) == {"pattern"} and facets["pattern"].get("striped", 0) >= 1
    dotted = client.post("/api/search", json={"text": "hoodie", "k": 4,
                                              "filters": {"attributes": {"pattern": "Dotted"}}}).get_json()
    assert dotted["results"] and dotted["refine"]["attributes"] == {"pattern": {"dotted": dotted["refine"]["relevant"]}}


def test_suggest_completes_the_typed_words_and_rejects_bad_parameters(client):
    from server.openapi import SPEC

    res = client.get("/api/suggest", query_string={"q": "red stri", "k": 5})
    body = res.get_json()
    schema = SPEC["paths"]["/api/suggest"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, schema)
    titles = [s["title"] for s in body["suggestions"]]
    assert res.status_code == 200 and body["q"] == "red stri" and 0 < len(titles) <= 5
    assert all("red striped" in t.lower() for t in titles) and len(set(titles)) == len(titles)
    for params, field in (({}, "q"), ({"q": "  "}, "q"), ({"q": "x" * 201}, "q"), ({"q": "red", "k": 0}, "k"),
                          ({"q": "red", "k": 2.5}, "k"), ({"q": "red", "k": "many"}, "k")):
        bad = client.get("/api/suggest", query_string=params)
        assert bad.status_code == 400 and bad.get_json()["field"] == field, params
