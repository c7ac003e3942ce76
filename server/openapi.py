"""The OpenAPI 3.1 description of the API; tests validate real responses against these schemas."""

from engine.paging import SORTS

_ERROR = {"type": "object", "required": ["error", "status"],
          "properties": {"error": {"type": "string"}, "status": {"type": "integer"}, "field": {"type": "string"}}}
_PRODUCT = {"type": "object", "required": ["id", "title", "category", "price", "images"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                           "description": {"type": "string"}, "category": {"type": "string"},
                           "category_predicted": {"type": "boolean"},
                           "price": {"type": ["number", "null"]}, "currency": {"type": "string"},
                           "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
                           "images": {"type": "array", "items": {"type": "string"}}}}
_RESULT = {"type": "object", "required": ["product", "score", "why"],
           "properties": {"product": _PRODUCT, "score": {"type": "number"},
                          "why": {"type": "object", "additionalProperties": {"type": "number"},
                                  "description": "the fused parts of the score (see engine/fusion.py), those the query "
                                                 "has of: look, visual, text, bridge, shape, text_photo, price_fit, "
                                                 "category_fit, predicted_category_fit, category_words_fit, proto, colour, "
                                                 "colour_class, colour_shift, type_class, lexical (the query's words found in the "
                                                 "product's title, category, attributes and description, 0-1); added by the re-ranking stage to a photo query's best "
                                                 "candidates: local (the query photo's cells matched with the product's "
                                                 "photos'), same_shot (the same product photographed the same way) and "
                                                 "palette (the query photo's exact shades found in the product's photo); "
                                                 "score = their weighted sum"},
                          "duplicates": {"type": "array", "items": {"type": "string"}}}}
_SEARCH_RESPONSE = {"type": "object", "required": ["results", "timings_ms", "plan", "matching"],
                    "properties": {"results": {"type": "array", "items": _RESULT},
                                   "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
                                   "plan": {"type": "string", "description": "exact, ann, ann+exact, gpu-exact, empty; browse: "
                                            "filters alone (no words, no photo), the matches in the catalogue's "
                                            "order or by price, scores 0"}, "matching": {"type": "integer"},
                                   "offset": {"type": "integer"}, "sort": {"enum": list(SORTS), "description": "the order "
                                                                  "applied: the request's, or the words' ('cheapest bag': "
                                                                  "price_asc, also understood.sort) where it left relevance"},
                                   "ordered": {"type": "integer", "description": "with a price sort: how many "
                                               "relevant matches it orders (the pages end there)"},
                                   "predicted_category": {"type": ["string", "null"]},
                                   "refine": {"type": ["object", "null"], "description":
                                              "what the relevant matches (those scoring at least rerank.sort_floor "
                                              "of the best, before the page is cut) hold, to narrow the search by: "
                                              "relevant (how many), categories and colours (value -> count), "
                                              "attributes whose values repeat (brand, size, pattern: name -> "
                                              "value -> count, 10 values each; filter with filters.attributes), "
                                              "price {min, max} or null; facets count the whole catalogue",
                                              "properties": {"relevant": {"type": "integer"},
                                                             "categories": {"type": "object", "additionalProperties": {"type": "integer"}},
                                                             "colours": {"type": "object", "additionalProperties": {"type": "integer"}},
                                                             "attributes": {"type": "object", "additionalProperties": {
                                                                 "type": "object", "additionalProperties": {"type": "integer"}}},
                                                             "price": {"type": ["object", "null"]}}},
                                   "understood": {"type": ["object", "null"], "description":
                                                  "what was read out of the text: price phrases applied as "
                                                  "filters (those given in filters win): text (the words "
                                                  "searched), phrases, min_price, max_price, price_target; "
                                                  "photo_words: beside a photo, words that only pointed at it "
                                                  "('similar', '同款'), taken out so the photo alone is searched; "
                                                  "category_words: words naming the shop's categories (where none "
                                                  "does, words naming one category in the shop's own titles), a soft "
                                                  "preference (why: category_words_fit); not_within_filters: those category "
                                                  "words when no product within the filters is in a category they "
                                                  "name (the closest are shown: 'bag under 50' where every bag costs "
                                                  "more); cheaper_than / pricier_than: {id, title, price} of the "
                                                  "product a photo was taken to show when words beside it compare "
                                                  "('this, but cheaper'): the results are below (above) its price, "
                                                  "in its category, by relevance; colours: colour words "
                                                  "compared with the photos' colours (why: colour); "
                                                  "synonyms: the shop's one-way synonym rules applied "
                                                  "({'lv': 'louis vuitton'}, engine/synonyms.py); "
                                                  "corrected: misspelt words no product holds, each read as "
                                                  "the catalogue's word one edit away ({'hodie': 'hoodie'}; "
                                                  "text is then the corrected words; read_words false "
                                                  "searches as typed); "
                                                  "embedded_as: the words the text tower read when colour "
                                                  "words the shop never uses were written as the colour's "
                                                  "name ('navy hoodie' -> 'navy blue hoodie'); head_word: "
                                                  "the word naming the kind of product, embedded again beside "
                                                  "the text where the shared space fits the catalogue poorly "
                                                  "('Chaz Kangeroo Hoodie' -> 'Hoodie'); kinds: the kinds of "
                                                  "product the bundle's type reader knows that the words name "
                                                  "('black heels' -> 'Heels'; why: type_class); anchor "
                                                  "(photo + text): the product the photo was found to show, "
                                                  "whose catalogue photo the words then change, and its title "
                                                  "(anchor_title)",
                                                  "properties": {"text": {"type": "string"},
                                                                 "phrases": {"type": "array", "items": {"type": "string"}},
                                                                 "min_price": {"type": "number"},
                                                                 "max_price": {"type": "number"},
                                                                 "price_target": {"type": "number"},
                                                                 "category_words": {"type": "array",
                                                                                    "items": {"type": "string"}},
                                                                 "colours": {"type": "array",
                                                                             "items": {"type": "string"}},
                                                                 "embedded_as": {"type": "string"},
                                                                 "head_word": {"type": "string"},
                                                                 "kinds": {"type": "array", "items": {"type": "string"}},
                                                                 "anchor": {"type": "string"},
                                                                 "anchor_title": {"type": "string"}}},
                                   "facets": {"type": "object", "additionalProperties": {"type": "integer"}}}}
_FILTERS = {"type": "object", "additionalProperties": False, "properties": {
    "min_price": {"type": "number", "minimum": 0}, "max_price": {"type": "number", "minimum": 0},
    "category": {"type": "string", "description": "category subtree, e.g. Women/Tops"},
    "attributes": {"type": "object", "additionalProperties": {"type": "string"}}}}
_SEARCH_REQUEST = {"type": "object", "additionalProperties": False, "properties": {
    "text": {"type": "string", "maxLength": 1000, "description": "free text; price phrases such as 'under 300', "
             "'between $50 and $80' or '200元以下' become filters (see the response's understood)"},
    "read_words": {"type": "boolean", "default": True, "description": "false: embed the text as typed, "
                   "without reading price phrases or category words out of it"},
    "image": {"type": "string", "description": "base64 photo (JPEG, PNG, WebP, GIF, BMP, TIFF)"},
    "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
            "description": "search a region: [x0, y0, x1, y1] as fractions of the photo"},
    "filters": _FILTERS, "k": {"type": "integer", "minimum": 1, "maximum": 200},
    "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "the page starts after this many "
               "results; offset + k <= 1000 (<= 200 with a price sort); browsing (filters alone), any"},
    "sort": {"enum": list(SORTS), "default": "relevance", "description": "price_asc / price_desc order the "
             "relevant matches by price (of the 200 most relevant, those scoring at least half the best's; no "
             "price last; the response's ordered says how many), so the pages of one query follow each other"},
    "image_weight": {"type": "number", "minimum": 0}, "text_weight": {"type": "number", "minimum": 0},
    **{k: {**_FILTERS["properties"][k], "description": f"the same as filters.{k} (for forms)"}
       for k in ("min_price", "max_price", "category")},
    "preferences": {"type": "object", "additionalProperties": False, "properties": {"price_target": {"type": "number"},
                                                      "category": {"type": "string"},
                                                      "attributes": {"type": "object", "additionalProperties": {"type": "string"},
                                                                     "description": "values that rank a product higher "
                                                                     "(soft: {\"brand\": \"Acme\"}; why: attribute_fit)"}}},
    "exclude": {"type": "array", "items": {"type": "string"}}}}
_PRODUCT_IN = {"type": "object", "required": ["id", "title"], "additionalProperties": False, "properties": {
    **{k: v for k, v in _PRODUCT["properties"].items() if k != "images"},
    "photos": {"type": "array", "items": {"type": "string"}, "description": "base64 photos"}}}


_SYNONYMS = {"type": "object", "required": ["synonyms", "rules", "equivalent_terms"], "properties": {
    "synonyms": {"type": "string"}, "rules": {"type": "integer"}, "equivalent_terms": {"type": "integer"}}}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    return {str(c): {"description": "error", **_json({"$ref": "#/components/schemas/Error"})} for c in codes}


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Shopsight API", "version": "0.1.0",
             "description": "Product search by photo, by text, or both, with filters."},
    "components": {
        "schemas": {"Error": _ERROR, "Product": _PRODUCT, "SearchResponse": _SEARCH_RESPONSE,
                    "SearchRequest": _SEARCH_REQUEST, "ProductIn": _PRODUCT_IN},
        "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
    },
    "paths": {
        "/api/search": {"post": {
            "summary": "Search by photo, text, or both",
            "requestBody": {"content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "image": {"type": "string", "format": "binary"}, "text": {"type": "string"},
                    "filters": {"type": "string", "description": "JSON object"}, "k": {"type": "integer"},
                    "offset": {"type": "integer"}, "sort": {"enum": list(SORTS)}}}}}},
            "responses": {"200": {"description": "results", **_json({"$ref": "#/components/schemas/SearchResponse"})},
                          **_errors(400, 413, 415)}}},
        "/api/products": {
            "post": {"summary": "Add or replace products (one or a batch); a product sent again without a "
                                "photos field keeps its stored photos (\"photos\": [] removes them)",
                     "security": [{"apiKey": []}],
                     "requestBody": _json({"oneOf": [{"$ref": "#/components/schemas/ProductIn"},
                                                     {"type": "object", "properties": {"products": {
                                                         "type": "array", "items": {"$ref": "#/components/schemas/ProductIn"}}}}]}),
                     "responses": {"201": {"description": "stored", **_json({"type": "object", "required": ["stored", "seq"], "properties": {
                         "stored": {"type": "array", "items": {"type": "string"}}, "seq": {"type": "integer"}}})},
                         **_errors(400, 401, 403, 413, 415)}},
            "put": {"summary": "Replace products by id", "security": [{"apiKey": []}],
                    "requestBody": _json({"$ref": "#/components/schemas/ProductIn"}),
                    "responses": {"200": {"description": "stored"}, **_errors(400, 401, 403, 415)}}},
        "/api/products/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"summary": "One product", "responses": {
                "200": {"description": "the product", **_json({"$ref": "#/components/schemas/Product"})},
                **_errors(404)}},
            "patch": {"summary": "Change some fields of a product; the others, photos included, stay (attributes "
                                 "given replace the whole map; price null clears it; photos given replace them)",
                      "security": [{"apiKey": []}],
                      "requestBody": _json({"type": "object", "minProperties": 1, "additionalProperties": False,
                                            "properties": {k: v for k, v in _PRODUCT_IN["properties"].items()
                                                           if k not in ("id", "category_predicted")}}),
                      "responses": {"200": {"description": "stored", **_json({"type": "object", "required": ["stored", "seq"], "properties": {
                          "stored": {"type": "array", "items": {"type": "string"}}, "seq": {"type": "integer"}}})},
                          **_errors(400, 401, 403, 404, 413, 415)}},
            "delete": {"summary": "Delete a product", "security": [{"apiKey": []}], "responses": {
                "200": {"description": "deleted", **_json({"type": "object", "required": ["deleted", "seq"], "properties": {
                    "deleted": {"type": "string"}, "seq": {"type": "integer"}}})}, **_errors(401, 403, 404)}}},
        "/api/products/{id}/similar": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
                           {"name": "min_price", "in": "query", "schema": {"type": "number"}},
                           {"name": "max_price", "in": "query", "schema": {"type": "number"}},
                           {"name": "category", "in": "query", "schema": {"type": "string"}},
                           {"name": "price", "in": "query", "schema": {"type": "string", "enum": ["cheaper", "dearer"]},
                            "description": "only those strictly cheaper (dearer) than it, in its category unless "
                                           "category is given: a product page's cheaper alternatives"}],
            "get": {"summary": "Products like this one (\"more like this\"): its first photo searched as a photo query, "
                               "the product and the listings folded into it as near-duplicates left out; by its title "
                               "when it has no readable photo. understood: {like, like_title, by: photo | title}",
                    "responses": {"200": {"description": "results", **_json({"$ref": "#/components/schemas/SearchResponse"})},
                                  **_errors(400, 404)}}},
        "/api/products/{id}/photos/{n}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {"summary": "A product photo", "responses": {"200": {"description": "image bytes"}, **_errors(404)}}},
        "/api/categories": {"get": {"summary": "Category paths with product counts", "responses": {
            "200": {"description": "counts", **_json({"type": "object", "additionalProperties": {"type": "integer"}})}}}},
        "/api/duplicates": {"get": {
            "summary": "Near-duplicate listing groups (look cosine >= threshold, or the same picture by the "
                       "photo signatures; variants never group: listings stating different colours, or priced more "
                       "than price_gap apart)",
            "security": [{"apiKey": []}],
            "parameters": [{"name": "threshold", "in": "query", "schema": {"type": "number", "minimum": -1, "maximum": 1}},
                           {"name": "same_photo_distance", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 2},
                            "description": "largest thumbnail cell distance for the same picture; 0: off"},
                           {"name": "price_gap", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1},
                            "description": "listings priced more than this share of the higher price apart are variants "
                                           "(sizes, storage tiers), never duplicates; 1: prices never keep listings apart "
                                           "(default: rerank.fold_price_gap, 0.1)"}],
            "responses": {"200": {"description": "groups of product ids", **_json({
                "type": "object", "required": ["groups", "threshold", "same_photo_distance", "price_gap"], "properties": {
                    "groups": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
                    "threshold": {"type": "number"}, "same_photo_distance": {"type": "number"},
                    "price_gap": {"type": "number"}}})},
                **_errors(400, 401, 403)}}},
        "/api/suggest": {"get": {
            "summary": "Search-as-you-type: products whose title holds the words typed so far, the last one as a "
                       "prefix ('red stri' -> 'Red striped hoodie'; Chinese by characters and pairs); distinct titles",
            "parameters": [{"name": "q", "in": "query", "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                            "description": "the words typed so far (nothing is suggested before two characters)"},
                           {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 20},
                            "description": "suggestions at most (default 8)"}],
            "responses": {"200": {"description": "suggestions, best first", **_json({
                "type": "object", "required": ["q", "suggestions"], "properties": {
                    "q": {"type": "string"},
                    "suggestions": {"type": "array", "items": {
                        "type": "object", "required": ["id", "title"],
                        "properties": {"id": {"type": "string"}, "title": {"type": "string"}}}}}})},
                **_errors(400)}}},
        "/api/synonyms": {
            "get": {"summary": "The shop's synonyms file (Solr's format: 'tee, tshirt' equivalent words, 'lv => louis "
                               "vuitton' one-way rules, '#' comments) and how many rules and equivalent terms it holds",
                    "responses": {"200": {"description": "the file", **_json(_SYNONYMS)}}},
            "put": {"summary": "Replace the shop's synonyms (checked, then written atomically; read by every worker "
                               "before its next search); a wrong line is a 400 naming it and nothing is written",
                    "security": [{"apiKey": []}],
                    "requestBody": {"required": True, "content": {
                        "text/plain": {"schema": {"type": "string", "maxLength": 1_000_000}},
                        "application/json": {"schema": {"type": "object", "required": ["synonyms"],
                                                        "properties": {"synonyms": {"type": "string"}}}}}},
                    "responses": {"200": {"description": "installed", **_json(_SYNONYMS)}, **_errors(400, 401, 403)}}},
        "/api/unheard": {
            "get": {"summary": "Words shoppers searched that no product holds (after synonyms and typo correction), "
                               "most searched first: what to write synonyms for; words and counts only, never queries",
                    "security": [{"apiKey": []}],
                    "parameters": [{"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                                    "description": "words at most (default 50)"}],
                    "responses": {"200": {"description": "the words", **_json({
                        "type": "object", "required": ["words", "logging"], "properties": {
                            "logging": {"type": "boolean", "description": "false when log_unheard is off"},
                            "words": {"type": "array", "items": {
                                "type": "object", "required": ["word", "n", "last_seen", "near"], "properties": {
                                    "word": {"type": "string"}, "n": {"type": "integer"},
                                    "last_seen": {"type": "number", "description": "Unix time"},
                                    "near": {"type": "array", "items": {"type": "string"}, "description":
                                             "the 3 category names nearest to the word in the text tower's "
                                             "space: where a synonym for it would likely point"}}}}}})},
                        **_errors(400, 401, 403)}},
            "delete": {"summary": "Clear the counts", "security": [{"apiKey": []}],
                       "responses": {"200": {"description": "how many words were cleared", **_json({
                           "type": "object", "required": ["forgotten"],
                           "properties": {"forgotten": {"type": "integer"}}})}, **_errors(401, 403)}}},
        "/api/health": {"get": {"summary": "Liveness and index size", "responses": {
            "200": {"description": "ok", **_json({"type": "object", "required": ["status", "products"], "properties": {
                "status": {"type": "string"}, "products": {"type": "integer"}, "photos": {"type": "integer"},
                "index": {"type": "string"}, "bundle": {"type": "string"},
                "seq": {"type": "integer", "description": "the catalogue sequence this worker's index has every change of"},
                "catalogue_seq": {"type": "integer", "description": "the catalogue's sequence now (above `seq` while "
                                  "a feed or an import is being applied)"},
                "pending": {"type": "integer", "description": "changed products read and not in this worker's index "
                            "yet (-1 while a large feed is being read in the background)"},
                "build": {"type": "string", "description": "the full build (`shopsight index`) this worker serves; a worker "
                          "opens a newer one in the background within seconds of its snapshot's publication"},
                "snapshot": {"type": ["string", "null"], "description": "the index snapshot folder it was opened from"},
                "rows_held": {"type": "integer", "description": "product rows the index holds, those of deleted products "
                              "and of products re-embedded after a new title or photo included (until the next build)"},
                "gpu": {"type": ["string", "null"], "description": "exact GPU search (faiss-gpu or torch); null on the CPU"},
                "shared_fit": {"type": ["number", "null"], "description": "how well the bundle's shared space fits this "
                               "catalogue (0..1, measured at index time; photo queries weigh it by this); null: unknown"},
                "catalogue_bridge": {"type": "boolean", "description": "text-only queries use the bundle's "
                                     "product vocabulary (the catalogue bridge; weight w_proto x (1 - shared_fit))"},
                "runtimes": {"type": "object", "description": "tower -> runtime in use (torch or onnx), once loaded",
                             "additionalProperties": {"type": "string"}}}})}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text format"}}}},
        "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}
