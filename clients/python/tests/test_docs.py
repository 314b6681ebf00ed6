"""The Python code of the documentation runs against the test server."""

import re

import pytest

from conftest import REPO

DOCS = [REPO / "docs" / "notebook.md", REPO / "clients" / "python" / "README.md"]


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_doc_runs(doc, server, tmp_path, monkeypatch, capsys):
    blocks = python_blocks(doc)
    assert blocks, "%s has no python block" % doc
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUBSETD_CACHE", str(tmp_path / "cache"))
    ns = {"__name__": "__doc__"}
    for i, code in enumerate(blocks):
        code = code.replace("http://127.0.0.1:8080", server.url)
        exec(compile(code, "%s, python block %d" % (doc.name, i + 1), "exec"), ns)
    out = capsys.readouterr().out
    assert "Traceback" not in out
