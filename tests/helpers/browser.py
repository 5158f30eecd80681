"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``): no new dependency.

The browser reads JSON commands, each ended by a NUL byte, from its file descriptor 3 and writes answers and events
the same way to descriptor 4. The tests use it to open the HTML report as a reader would, click through its menu and
look at what is on the page: text inside the report's frames, the images shown, screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

BINARIES = ("chromium", "chromium-browser", "google-chrome")


def chromium_binary() -> str | None:
    """The first Chromium on the PATH (Debian's package installs ``chromium``), or None."""
    return next((path for name in BINARIES if (path := shutil.which(name))), None)


def install_chromium(log: Path) -> str | None:
    """Debian's Chromium, installed with apt-get where this is root on a Debian-like system and none is on the PATH
    (as tests/slurm/start.sh installs SLURM), so that CI, which runs as root, opens the report in a real browser
    instead of skipping; None where it cannot be installed, with apt-get's output in ``log``."""
    if chromium_binary() or os.geteuid() != 0 or not shutil.which("apt-get"):
        return chromium_binary()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with log.open("w") as out:
        def apt(*args: str) -> bool:
            return subprocess.run(["apt-get", *args], stdout=out, stderr=subprocess.STDOUT, env=env,
                                  timeout=900).returncode == 0

        install = ("install", "-y", "-q", "--no-install-recommends", "chromium")
        if not apt(*install):  # a stale package list: update it once, then try again
            apt("update", "-q")
            apt(*install)
    return chromium_binary()


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, binary: str, profile: Path, width: int = 1400, height: int = 1000) -> None:
        self._commands_read, self._commands = os.pipe()
        self._answers, self._answers_write = os.pipe()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--remote-debugging-pipe", f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{self._commands_read} 4>&{self._answers_write}', "chromium", binary, *flags],
            pass_fds=(self._commands_read, self._answers_write), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self._commands_read)
        os.close(self._answers_write)
        self._next_id, self._buffer, self.session = 0, b"", None
        self.size = (width, height)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self._commands)
        os.close(self._answers)

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, timeout: float = 60, **params: Any) -> dict:
        """Send one command (to the page once :meth:`open` attached it) and return its result."""
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            command["sessionId"] = self.session
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while (answer := self._message(deadline)).get("id") != self._next_id:
            pass  # an event: none is needed
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def open(self, url: str) -> None:
        """Open ``url`` in a new page of the window's size and attach to it."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        width, height = self.size
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.send("Page.enable")
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str, context: int | None = None) -> Any:
        """The value of a JavaScript expression in the page (or in the execution context ``context``)."""
        params: dict[str, Any] = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        if context is not None:
            params["contextId"] = context
        result = self.send("Runtime.evaluate", **params)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Evaluate ``expression`` until it is truthy (an error, as before the page has a body, counts as false)."""
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (error) {{ return false; }} }})()"
        while not (value := self.evaluate(guarded)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"never true: {expression}")
            time.sleep(0.2)
        return value

    def click_text(self, text: str, timeout: float = 30) -> None:
        """Click the innermost element whose whole visible text is ``text``, as a reader clicks a menu entry."""
        script = f"""(() => {{
            const hits = [...document.querySelectorAll("body *")].filter(
                node => node.offsetParent !== null && node.innerText && node.innerText.trim() === {json.dumps(text)});
            if (!hits.length) return false;
            hits[hits.length - 1].click();
            return true;
        }})()"""
        self.wait_for(script, timeout)

    def click_view(self, timeout: float = 30) -> None:
        """Click the first result's eye button in the report's list of results: the report shows that result."""
        self.wait_for("document.querySelector('a[iconname=\"eye\"]').click() === undefined", timeout)

    def frame_text(self, timeout: float = 30) -> str:
        """The visible text of the page's first frame (the report shows an HTML result in an iframe)."""
        deadline = time.monotonic() + timeout
        while True:
            frames = self.send("Page.getFrameTree")["frameTree"].get("childFrames", [])
            if frames:
                world = self.send("Page.createIsolatedWorld", frameId=frames[0]["frame"]["id"])
                text = self.evaluate("document.body ? document.body.innerText : ''", world["executionContextId"])
                if text:
                    return text
            if time.monotonic() > deadline:
                raise TimeoutError("no frame with text on the page")
            time.sleep(0.2)

    def screenshot(self, path: Path) -> None:
        """Save what the page shows now as a PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
