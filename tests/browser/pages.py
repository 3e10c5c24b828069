"""What the browser tests share: the two screen sizes, signing in, and screenshots kept in
var/test-screenshots (`BROWSER_SCREENSHOTS`)."""

from tests.browser.conftest import SCREENSHOTS
from tests.factories import TEST_PASSWORD

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def shot(page, name: str, viewport: dict | None = None) -> None:
    """A full-page screenshot, at `viewport` if given, once its pictures have loaded."""
    if viewport is not None:
        page.set_viewport_size(viewport)
    # From the top: the sticky header would otherwise sit in the middle of a full-page shot.
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    # A full-page shot shows what is below the fold too: load the lazy pictures now.
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach((img) => {img.loading = 'eager'})"
    )
    # (An <img> with no source yet, such as a preview filled in by a script, has none to load.)
    page.wait_for_function(
        "() => Array.from(document.images).every((img) => !img.getAttribute('src')"
        " || (img.complete && img.naturalWidth > 0))"
    )
    path = SCREENSHOTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")
