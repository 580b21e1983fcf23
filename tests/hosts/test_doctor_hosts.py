"""``pixcut doctor``'s host checks on a Flatpak GIMP/Krita (only the sandbox is simulated: its folders)."""

from __future__ import annotations

from pixcut.cli import doctor
from pixcut.hosts import gimp, krita


def test_doctor_names_the_override_then_reports_a_working_flatpak(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("GIMP3_DIRECTORY", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    assert doctor.check_flatpaks() == []  # no Flatpak host: no line at all
    (tmp_path / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.0").mkdir(parents=True)
    (tmp_path / ".var" / "app" / "org.kde.krita" / "data" / "krita").mkdir(parents=True)
    checks = {c.name: c for c in doctor.check_flatpaks()}
    assert checks["gimp-flatpak"].status == "problem"
    assert checks["gimp-flatpak"].detail.endswith(
        "flatpak override --user --talk-name=org.freedesktop.Flatpak org.gimp.GIMP"
    )
    assert checks["krita-flatpak"].detail.endswith("--talk-name=org.freedesktop.Flatpak org.kde.krita")

    overrides = tmp_path / ".local" / "share" / "flatpak" / "overrides"
    overrides.mkdir(parents=True)
    for app in ("org.gimp.GIMP", "org.kde.krita"):
        (overrides / app).write_text(
            "[Context]\nfilesystems=home\n\n[Session Bus Policy]\norg.freedesktop.Flatpak=talk\n"
        )
    checks = {c.name: c for c in doctor.check_flatpaks()}
    assert checks["gimp-flatpak"].status == "problem" and "plug-in is not in" in checks["gimp-flatpak"].detail

    # Only the Flatpak hosts exist here, so the installers' default is their profile.
    assert gimp.install() == gimp.flatpak_dest() / gimp.PLUGIN_NAME
    assert krita.install() == krita.flatpak_dest() / krita.PLUGIN_NAME
    assert krita.is_enabled(krita.flatpak_kritarc())
    checks = {c.name: c for c in doctor.check_flatpaks()}
    assert checks["gimp-flatpak"].status == checks["krita-flatpak"].status == "ok", checks
    assert doctor.check_gimp().status == doctor.check_krita().status == "ok"
