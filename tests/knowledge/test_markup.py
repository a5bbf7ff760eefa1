"""Article Markdown: rendered and sanitized, and snippet blocks (```snippet
Label ... ```) shown as insertable text on the page and in the API."""

import pytest

from hub.knowledge import markup
from tests.knowledge.conftest import write

pytestmark = pytest.mark.django_db

BODY = """# Paying a bill

Say **thank you**.

```snippet Payment plan offer
We can split your balance into monthly payments.
No interest, <b>ever</b>.
```

Between.

```snippet
Anything else I can help with?
```
"""


def test_snippet_blocks_are_parsed_with_labels():
    assert markup.snippets(BODY) == [
        markup.Snippet("Payment plan offer", "We can split your balance into monthly payments.\nNo interest, <b>ever</b>."),
        markup.Snippet("Snippet 2", "Anything else I can help with?"),
    ]
    blocks = markup.render(BODY)
    assert [bool(b.snippet) for b in blocks] == [False, True, False, True]
    assert "<h2>Paying a bill</h2>" in blocks[0].html and "<strong>thank you</strong>" in blocks[0].html


def test_html_in_articles_is_sanitized():
    html = markup.to_html('<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) '
                          '<a href="https://example.org" onclick="alert(4)">ok</a> <p style="color:red">s</p>')
    assert "<script" not in html and "alert(1)" not in html
    assert "<img" not in html and "onerror" not in html and "javascript:" not in html
    assert "onclick" not in html and "style=" not in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in html


def test_the_article_page_shows_snippets_as_text(world, signed_in):
    article = write(world.sam, "Billing script", BODY + "\n<script>alert('x')</script>")
    page = signed_in(world.alice).get(f"/console/kb/{article.slug}/").content.decode()
    assert '<figcaption>Payment plan offer</figcaption>' in page
    assert "No interest, &lt;b&gt;ever&lt;/b&gt;." in page
    assert page.count("data-copy-snippet") == 2
    assert "alert('x')" not in page


def test_the_api_reads_an_article_with_its_snippets(world, signed_in):
    article = write(world.sam, "Billing script", BODY)
    data = signed_in(world.alice).get(f"/api/v1/kb/articles/{article.pk}").json()
    assert data["snippets"] == [
        {"label": "Payment plan offer", "text": "We can split your balance into monthly payments.\nNo interest, <b>ever</b>."},
        {"label": "Snippet 2", "text": "Anything else I can help with?"},
    ]
    assert data["body"] == BODY and data["url"] == f"/console/kb/{article.slug}/"
    assert "<pre>We can split your balance into monthly payments.\nNo interest, &lt;b&gt;ever&lt;/b&gt;.</pre>" in data["html"]
