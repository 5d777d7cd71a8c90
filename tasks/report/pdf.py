"""An optional PDF of the report, printed by a headless Chromium when one is installed.

No PyPI library makes a faithful PDF of Chinese HTML with inline SVG without system libraries (WeasyPrint
needs Pango; pure-Python converters drop SVG and need CJK fonts registered by hand), so the PDF is printed by
the same browser the report is tested in. Without Chromium there is no PDF and the caller says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """The path of an installed Chromium-family browser, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(index_html: Path, pdf: Path, browser: str | None = None, timeout: float = 120.0) -> Path:
    """Print a rendered page to `pdf` with headless Chromium; raises RuntimeError when that is impossible."""
    browser = browser or find_browser()
    if browser is None:
        raise RuntimeError("没有找到 Chromium，无法生成PDF / no Chromium found: the PDF was not written "
                           "(install it with apt-get install chromium)")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minsheng-pdf-") as profile:
        # An argument list, never a shell: file names are data.
        args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}",
                index_html.resolve().as_uri()]
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"Chromium 生成PDF失败 / Chromium could not print the PDF "
                           f"(exit {done.returncode}): "
                           f"{done.stderr.strip()[-400:]}")
    return pdf
