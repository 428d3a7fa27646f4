"""CI installs and tests with the commands the README gives a new user."""

import re

from tests.conftest import PROJECT_ROOT


def _shell_lines(markdown: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", markdown, flags=re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]


def test_ci_uses_readme_commands():
    readme = _shell_lines((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    ci_script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install, run, test = readme[0], readme[1], readme[2]
    assert install.startswith("python3 -m venv .venv")
    assert run == ".venv/bin/fer run"
    assert test == ".venv/bin/pytest"
    assert install in ci_script
    assert f"\n{test}\n" in ci_script
