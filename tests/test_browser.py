"""The web page in Debian's chromium (Playwright drives it; no browser download), served by gunicorn.

Uploads a photo, types text, sets a price range, checks the filtered results, clicks
"More like this", and saves screenshots to out/screenshots/ for a person to look at.
"""

import base64
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from engine import synonyms
from engine.catalog import Catalog
from engine.config import config_to_dict

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]
SHOTS = Path(__file__).resolve().parents[1] / "out" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STORE_PAGE = """<!doctype html><html><body><div id="out">waiting</div><script>
const api = new URLSearchParams(location.search).get("api");
(async () => {
  const out = document.getElementById("out");
  try {
    const res = await fetch(api + "/api/search", {method: "POST", headers: {"Content-Type": "application/json"},
                                                 body: JSON.stringify({text: "red hoodie", k: 3})});
    const data = await res.json();
    let write = "allowed";
    try {
      await fetch(api + "/api/products", {method: "POST", headers: {"Content-Type": "application/json", "X-API-Key": "k"},
                                          body: JSON.stringify({id: "X", title: "x"})});
    } catch (e) { write = "blocked"; }
    out.textContent = "found " + data.results.map((r) => r.product.title).join(", ") + "; write " + write;
  } catch (e) { out.textContent = "error " + e; }
})();
</script></body></html>"""


@pytest.fixture()
def store_port() -> int:
    return _free_port()


@pytest.fixture()
def storefront(store_port, tmp_path):
    """Another site (another port: another origin) whose page calls the search API from the browser."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "store.html").write_text(STORE_PAGE)
    quiet = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = ThreadingHTTPServer(("127.0.0.1", store_port), partial(quiet, directory=str(tmp_path / "store")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{store_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def live_server(built_shop, tmp_path, store_port):
    shutil.copytree(built_shop.path, tmp_path / "shop")
    catalog = Catalog(tmp_path / "shop" / "catalog.db")  # one product sold out (a feed's availability), no new vectors
    shoes = catalog.get("S0242")
    catalog.upsert([shoes.with_(attributes={**shoes.attributes, "availability": "out_of_stock"})])
    catalog.close()
    cfg = replace(built_shop, data_dir=str(tmp_path / "shop"), cors_origins=(f"http://127.0.0.1:{store_port}",))
    (tmp_path / "config.json").write_text(json.dumps(config_to_dict(cfg)))
    port = _free_port()
    env = {**os.environ, "SHOPSIGHT_CONFIG": str(tmp_path / "config.json"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-k", "server.worker.PacedThreadWorker",
                             "-b", f"127.0.0.1:{port}", "server.wsgi:app"], env=env,
                            cwd=Path(__file__).resolve().parents[1])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/api/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("gunicorn did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_search_page_end_to_end(live_server, storefront, sample_folder, tmp_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's policy refuses; the
            # touch phone below runs under the policy and checks that nothing the page does is refused
            page = browser.new_page(viewport={"width": 1200, "height": 900}, bypass_csp=True)
            page.goto(live_server + "/")
            page.set_input_files("#file", str(sample_folder / "images" / "S0041-0.png"))
            page.wait_for_selector("#preview-wrap:not([hidden])")
            page.fill("#text", "hoodie")
            page.fill("#min", "20")
            page.fill("#max", "70")
            page.click("#go")
            page.wait_for_selector(".card")
            prices = [float(t.split()[0]) for t in page.locator(".card .price").all_inner_texts()]
            assert prices and all(20 <= p <= 70 for p in prices)
            assert "matching products" in page.inner_text("#status")
            with open(sample_folder / "products.csv", encoding="utf-8") as fp:
                title = next(r["title"] for r in csv.DictReader(fp) if r["id"] == "S0041")
            assert f"your photo shows: {title}" in page.inner_text("#status")  # the anchor, by its title
            page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
            first = page.locator(".card").first.get_attribute("data-id")
            page.locator(".card .more").first.click()
            page.wait_for_function(f"document.querySelector('.card') && document.querySelector('.card').dataset.id !== '{first}'")
            ids = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.id)")
            assert first not in ids and len(ids) > 0
            page.screenshot(path=str(SHOTS / "more-like-this.png"), full_page=True)
            # S0328 re-lists S0033 with the same photo: one card, which says so
            page.click("#clear-photo")
            page.fill("#min", "")
            page.fill("#max", "")
            page.set_input_files("#file", str(sample_folder / "images" / "S0033-0.png"))
            page.wait_for_selector("#preview-wrap:not([hidden])")
            page.fill("#text", "similar")  # words that only point at the photo: the photo alone is searched
            page.click("#go")
            page.wait_for_selector(".card .dups")
            assert '"similar" points at it' in page.inner_text("#status")
            card = page.locator(".card", has=page.locator(".dups")).first
            assert card.get_attribute("data-id") in {"S0033", "S0328"}
            assert "+1 other listing with this photo" in card.inner_text()
            ids = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.id)")
            assert not {"S0033", "S0328"} <= set(ids), "the re-listing is folded, not shown twice"
            page.screenshot(path=str(SHOTS / "duplicates.png"), full_page=False)
            phone = browser.new_page(viewport={"width": 390, "height": 844}, bypass_csp=True)
            phone.goto(live_server + "/")
            phone.fill("#text", "红色连衣裙 100元以下")  # "red dress, 100 yuan or less": the words set the price
            phone.click("#go")
            phone.wait_for_selector(".card")
            assert "up to 100 (from your words)" in phone.inner_text("#status")
            prices = [float(t.split()[0]) for t in phone.locator(".card .price").all_inner_texts()]
            assert prices and all(p <= 100 for p in prices)
            phone.click("#as-typed")  # take the words back: no price filter read from them
            phone.wait_for_function("(t => t.includes('matching products') && !t.includes('from your words'))"
                                    "(document.querySelector('#status').textContent)")
            assert phone.locator("#as-typed").count() == 0 and phone.locator(".card").count() > 0
            phone.fill("#text", "red hodie")  # a typing error: searched as the shop's word, and said so
            phone.click("#go")
            phone.wait_for_function("document.querySelector('#status').textContent.includes('showing results for')")
            assert 'showing results for "red hoodie" (you typed hodie)' in phone.inner_text("#status")
            synonyms.install("crimson => red\n", tmp_path / "shop" / "synonyms.txt")  # read before the next search
            phone.fill("#text", "crimson hodie")
            phone.click("#go")
            phone.wait_for_function("document.querySelector('#status').textContent.includes('crimson → red')")
            assert ('showing results for "red hoodie" (you typed hodie; the shop\'s words: crimson → red)'
                    in phone.inner_text("#status"))
            phone.fill("#text", "striped hoodie")  # narrow by a colour the relevant matches state, then take it back
            phone.click("#go")
            phone.wait_for_selector("#refine button.chip")
            phone.locator("#refine button.chip", has_text="blue (").first.click()
            phone.wait_for_selector("#refine button.chip.active")
            colours = phone.locator(".card .title").all_inner_texts()
            assert colours and all(t.lower().startswith("blue") for t in colours), colours
            phone.click("#refine button.chip.active")
            phone.wait_for_function("!document.querySelector('#refine button.chip.active')")
            phone.fill("#text", "hoodie")  # (the striped ones alone hold every word of "striped hoodie": one pattern)
            phone.click("#go")
            phone.wait_for_function("[...document.querySelectorAll('#refine button.chip')]"
                                    ".filter(b => b.textContent.includes('pattern: ')).length >= 2")
            facets = phone.locator("#refine button.chip", has_text="pattern: ")  # a repeating attribute
            labels = [facets.nth(i).inner_text() for i in range(facets.count())]
            choice = next(i for i, label in enumerate(labels) if "plain" not in label)  # plain ones' titles name none
            pattern = labels[choice].split(": ")[1].split(" (")[0]
            facets.nth(choice).click()
            phone.wait_for_selector("#refine button.chip.active")
            titles = phone.locator(".card .title").all_inner_texts()
            assert titles and all(pattern in t.lower() for t in titles), (pattern, titles)
            phone.click("#refine button.chip.active")
            phone.wait_for_function("!document.querySelector('#refine button.chip.active')")
            phone.screenshot(path=str(SHOTS / "phone.png"), full_page=False)
            page.click("#clear-photo")  # text alone: the next page below the first, then cheapest first
            page.fill("#text", "bag")
            page.click("#go")
            page.wait_for_function("document.querySelector('#status').textContent.startsWith('24 of')")
            page.click("#more-results")
            page.wait_for_function("document.querySelectorAll('.card').length === 48")
            ids = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.id)")
            assert len(set(ids)) == 48 and page.inner_text("#status").startswith("48 of")
            page.select_option("#sort", "price_asc")
            page.wait_for_function("document.querySelector('#status').textContent.includes('relevant matches by price')")
            cards = page.locator(".card").count()
            if page.locator("#more-results").is_visible():  # more relevant matches than one page: the next page
                page.click("#more-results")
                page.wait_for_function(f"document.querySelectorAll('.card').length > {cards}")
            ids = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.id)")
            prices = [float(t.split()[0]) for t in page.locator(".card .price").all_inner_texts()]
            assert len(ids) == len(set(ids)) == len(prices) > 0 and prices == sorted(prices)
            status = page.inner_text("#status")
            assert status.startswith(f"{len(ids)} of {len(ids)} relevant matches by price")  # all of them shown
            assert not page.locator("#more-results").is_visible()
            page.screenshot(path=str(SHOTS / "price-order.png"), full_page=False)
            page.fill("#text", "")  # no words, no photo: a category picked browses it, cheapest first
            link = page.locator("#facet-list a", has_text="Accessories/Bags (")
            n = int(link.inner_text().rsplit("(", 1)[1].rstrip(")"))
            link.click()
            page.wait_for_function(f"document.querySelector('#status').textContent.includes('of {n} matching products')")
            while page.locator("#more-results").is_visible():
                cards = page.locator(".card").count()
                page.click("#more-results")
                page.wait_for_function(f"document.querySelectorAll('.card').length > {cards}")
            prices = [float(t.split()[0]) for t in page.locator(".card .price").all_inner_texts()]
            assert len(prices) == n and prices == sorted(prices)
            assert set(page.locator(".card .meta").all_inner_texts()) == {"Accessories/Bags"}
            phone.fill("#text", "green mug")  # a colour word is read and said so
            phone.click("#go")
            phone.wait_for_function("(t => t.includes('colour: green'))(document.querySelector('#status').textContent)")
            phone.fill("#text", "navy hoodie")  # an alias the shop never uses: the text tower reads its colour name
            phone.click("#go")
            phone.wait_for_function("(t => t.includes('colour: navy blue (read as \"navy blue hoodie\")'))"
                                    "(document.querySelector('#status').textContent)")
            phone.fill("#text", "Chaz Kangeroo hoodie")  # a made-up name beside the type: the type word is weighed
            phone.click("#go")
            phone.wait_for_function("(t => t.includes('kind of product: hoodie'))(document.querySelector('#status').textContent)")
            phone.fill("#text", "red stri")  # typing: titles holding the words so far are offered under the box
            phone.wait_for_function("(o => o.length > 0 && o.every(x => x.value.toLowerCase().includes('red stri')))"
                                    "([...document.querySelectorAll('#suggestions option')])")  # (not an earlier word's)
            offered = phone.locator("#suggestions option").evaluate_all("options => options.map(o => o.value)")
            assert offered and all("red striped" in title.lower() for title in offered)
            linked = browser.new_page(bypass_csp=True)  # a link to a search (the shop's own search box sends shoppers so)
            linked.goto(live_server + "/?q=hoodie&max=40&sort=price_asc")
            linked.wait_for_selector(".card")
            prices = [float(t.split()[0]) for t in linked.locator(".card .price").all_inner_texts()]
            assert prices and prices == sorted(prices) and max(prices) <= 40
            assert linked.input_value("#text") == "hoodie" and linked.input_value("#sort") == "price_asc"
            linked.fill("#text", "red mug")
            linked.fill("#max", "")
            linked.click("#go")
            linked.wait_for_function("location.search.includes('q=red+mug')")
            linked.wait_for_function("[...document.querySelectorAll('.card .title')].some(t => /mug/i.test(t.textContent))")
            linked.go_back()  # the earlier search, as it was
            linked.wait_for_function("document.querySelector('#text').value === 'hoodie'")
            linked.wait_for_function("(c => c.length > 0 && c.every(t => /hoodie/i.test(t.textContent)))"
                                     "([...document.querySelectorAll('.card .title')])")
            assert linked.input_value("#max") == "40"
            # a phone's camera photo (3024 px a side here) is scaled before it is sent: it was sent whole, ~10 MB with
            # each search and page (over the 10 MB limit from an 8 MB photo); a region is dragged with a finger
            big = Image.open(sample_folder / "images" / "S0041-0.png").convert("RGB").resize((3024, 3024))
            big.save(tmp_path / "camera.jpg", quality=95)
            touch = browser.new_context(viewport={"width": 390, "height": 664}, is_mobile=True, has_touch=True,
                                        device_scale_factor=3).new_page()
            sent, refused = [], []
            touch.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/api/search") else None)
            touch.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            touch.goto(live_server + "/")
            touch.set_input_files("#file", str(tmp_path / "camera.jpg"))
            touch.wait_for_selector("#preview-wrap:not([hidden])")
            touch.click("#go")
            touch.wait_for_selector(".card")
            ids = touch.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.id)")
            assert "S0041" in ids[:3]  # the photo's own product (tiny random towers; eval.photo_scale_check: real ones)
            sent_photo = Image.open(io.BytesIO(base64.b64decode(sent[-1]["image"].split(",", 1)[1])))
            assert sent_photo.size == (1280, 1280) and sent_photo.format == "JPEG"
            assert touch.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
            r = touch.locator("#preview").bounding_box()
            at = lambda fx, fy: {"clientX": r["x"] + fx * r["width"], "clientY": r["y"] + fy * r["height"],
                                 "pointerType": "touch", "bubbles": True, "isPrimary": True}
            touch.locator("#preview").dispatch_event("pointerdown", at(0.2, 0.2))
            touch.locator("#preview").dispatch_event("pointerup", at(0.7, 0.8))
            touch.wait_for_selector("#box:not([hidden])")
            with touch.expect_response(lambda res: res.url.endswith("/api/search")) as answered:
                touch.click("#go")
            assert answered.value.status == 200
            assert [round(x, 2) for x in sent[-1]["box"]] == [0.2, 0.2, 0.7, 0.8]
            touch.fill("#text", "but cheaper")  # compared with the product the photo shows, and said so
            touch.click("#go")
            touch.wait_for_selector("#status:has-text('cheaper than')")
            touch.fill("#text", "")
            dearest = max(touch.locator(".card").all(), key=lambda c: float(c.locator(".price").inner_text().split()[0]))
            bound = float(dearest.locator(".price").inner_text().split()[0])
            dearest.locator(".cheaper").click()  # a card's "cheaper like this": /similar?price=cheaper
            touch.wait_for_selector("#status:has-text('cheaper than')")
            prices = [float(x.split()[0]) for x in touch.locator(".card .price").all_inner_texts()]
            assert prices and all(p < bound for p in prices)
            touch.locator(".card .more").first.click()  # "more like this" fetches the photo and searches with it
            touch.wait_for_selector("#preview-wrap:not([hidden])")
            assert not refused, refused  # the page ran whole under its Content-Security-Policy
            unnamed = touch.evaluate("""[...document.querySelectorAll('button, input:not([type=file]), select, a')]
                .filter(e => e.offsetParent !== null)
                .filter(e => !((e.getAttribute('aria-label') || (e.labels && [...e.labels].map(l => l.textContent).join(''))
                               || e.textContent || e.title || '').trim()))
                .map(e => e.outerHTML.slice(0, 80))""")
            assert not unnamed, unnamed  # every control a screen reader reaches has a name
            touch.click("#clear-photo")
            with touch.expect_file_chooser() as chooser:  # the drop zone picks a photo from the keyboard too
                touch.focus("#drop")
                touch.keyboard.press("Enter")
            assert chooser.value is not None
            chinese = browser.new_page(bypass_csp=True)  # the page in the shopper's language (?lang=, or the browser's)
            chinese.goto(live_server + "/?lang=zh&q=红色连衣裙")
            chinese.wait_for_selector(".card")
            assert "个匹配商品" in chinese.inner_text("#status") and chinese.inner_text("#go") == "搜索"
            assert chinese.get_attribute("html", "lang") == "zh" and chinese.locator(".card .more").first.inner_text() == "找相似"
            assert chinese.evaluate("Object.values(STRINGS).every(t => Object.keys(STRINGS.en).every(k => k in t))")
            chinese.goto(live_server + "/?lang=de")  # every language has every string; German, French, Spanish too
            assert chinese.inner_text("#go") == "Suchen" and chinese.get_attribute("html", "lang") == "de"
            sold = browser.new_page(bypass_csp=True)  # a sold-out product says so on its card (and ranks lower)
            sold.goto(live_server + "/?q=red+striped+shoes")
            sold.wait_for_selector(".card")
            card = sold.locator(".card[data-id='S0242']")
            assert card.locator(".sold").inner_text() == "Out of stock"
            assert sold.locator(".card .sold").count() == 1
            store = browser.new_page()  # the shop's own site searches across origins; it cannot write
            store.goto(f"{storefront}/store.html?api={live_server}")
            store.wait_for_function("document.querySelector('#out').textContent !== 'waiting'")
            said = store.inner_text("#out")
            assert said.startswith("found Red") and said.endswith("write blocked"), said
        finally:
            browser.close()
