"""``pixcut.hosts.krita``: install/uninstall into a pykrita folder and the kritarc switch."""

from __future__ import annotations

import json
from pathlib import Path

from pixcut import __version__
from pixcut.hosts import hostkit, krita

RC = """[General]
foo=bar

[python]
enable_other=true
enable_pixcut_krita=false

[theme]
Theme=Krita dark
"""


def test_install_copies_records_and_enables(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "kritarc").write_text(RC)
    target = krita.install()
    pykrita = tmp_path / "data" / "krita" / "pykrita"
    assert target == pykrita / "pixcut_krita"
    assert (target / "__init__.py").is_file() and (target / "pixels.py").is_file()
    assert (target / hostkit.KIT_FILE).read_bytes() == Path(hostkit.__file__).read_bytes()
    assert (pykrita / "pixcut_krita.desktop").read_text().count("X-KDE-Library=pixcut_krita") == 1
    recorded = json.loads((target / "pixcut-location.json").read_text())
    assert recorded["executable"] and recorded["version"] == __version__ and recorded["protocol"] == hostkit.PROTOCOL
    rc = (tmp_path / "config" / "kritarc").read_text()
    before = "enable_other=true\nenable_pixcut_krita=false"
    after = "enable_pixcut_krita=true\nenable_other=true"
    assert rc == RC.replace(before, after)

    removed = krita.uninstall()
    assert set(removed) == {target, pykrita / "pixcut_krita.desktop"}
    assert not target.exists()
    rc = (tmp_path / "config" / "kritarc").read_text()
    assert "pixcut" not in rc and "enable_other=true" in rc and "Theme=Krita dark" in rc


def test_install_to_dest_with_link_and_new_kritarc(tmp_path):
    rc = tmp_path / "kritarc"
    target = krita.install(dest=tmp_path / "pk", link=True, kritarc=rc)
    assert target.is_symlink()
    assert (target / hostkit.KIT_FILE).resolve() == Path(hostkit.__file__).resolve()
    assert hostkit.read_location(str(target)).version is None  # a linked install follows the sources
    assert rc.read_text() == "[python]\nenable_pixcut_krita=true\n"
    removed = krita.uninstall(dest=tmp_path / "pk", kritarc=rc)
    assert not target.exists() and not (target.resolve() / "pixcut-location.json").exists()
    assert len(removed) == 4  # the location file and the kit link in the sources, the link, the .desktop
    assert rc.read_text() == "[python]\n"


def test_edit_python_group_appends_group_when_missing():
    assert krita.edit_python_group("[General]\na=1", "enable_pixcut_krita=true") == (
        "[General]\na=1\n\n[python]\nenable_pixcut_krita=true\n"
    )
    assert krita.edit_python_group("", None) == ""


def test_is_enabled_reads_only_the_python_group(tmp_path):
    rc = tmp_path / "kritarc"
    assert not krita.is_enabled(rc)  # no kritarc yet
    rc.write_text(RC)
    assert not krita.is_enabled(rc)
    rc.write_text(RC.replace("enable_pixcut_krita=false", "enable_pixcut_krita=true"))
    assert krita.is_enabled(rc)
    rc.write_text("[other]\nenable_pixcut_krita=true\n[python]\nenable_other=true\n")
    assert not krita.is_enabled(rc)  # the switch outside [python] is not Krita's switch
