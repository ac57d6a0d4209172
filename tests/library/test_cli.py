"""The library commands end to end through `faceme` (in-process), with --library anywhere."""

from __future__ import annotations

import json

import pytest


def test_scan_people_refs_round_trip(cli, small_album):
    code, out, err = cli("scan", str(small_album), "--json")
    assert code == 0
    assert json.loads(out)["added"] == 5
    assert "analysing" in err  # progress on stderr, JSON alone on stdout

    code, out, _ = cli("people", "--json")
    people = json.loads(out)
    band = next(
        p
        for p in people
        if {f["photo"].rsplit("/", 1)[-1] for f in p["faces"]} == {"band_four_lowres_a.jpg", "band_four_b.jpg"}
    )
    assert all(set(face) >= {"id", "photo", "box", "quality"} for face in band["faces"])

    assert cli("people", "rename", str(band["id"]), "Paul")[0] == 0
    code, out, _ = cli("people", "list")
    assert code == 0 and "Paul: 2 faces" in out

    code, out, _ = cli("refs", "suggest", "Paul", "--count", "1", "--accept")
    assert code == 0 and "added 1 reference\n" in out
    code, out, _ = cli("refs", "list", "paul", "--json")
    [ref] = json.loads(out)
    assert ref["kind"] == "face" and ref["face"] in {f["id"] for f in band["faces"]}

    face = band["faces"][0]["id"]
    assert cli("people", "move", str(face), "--new", "--name", "Ringo")[0] == 0
    code, out, _ = cli("people", "--json")
    assert [p["faces"][0]["id"] for p in json.loads(out) if p["name"] == "Ringo"] == [face]

    ringo = next(p["id"] for p in json.loads(out) if p["name"] == "Ringo")
    code, out, _ = cli("people", "rename", str(band["id"]), "Ringo")  # allowed, but said
    assert code == 0 and f"note: person {ringo} is also called 'Ringo'" in out


def test_user_errors_are_one_line_with_exit_code_2(cli, small_album):
    cli("scan", str(small_album))
    code, _, err = cli("people", "rename", "Nobody", "X")
    assert code == 2 and err.strip() == "faceme people: error: no person named 'Nobody' (see 'faceme people list')"
    code, _, err = cli("scan", str(small_album / "missing"))
    assert code == 2 and "no such folder" in err
    code, _, err = cli("scan", str(small_album), "--workers", "0")
    assert code == 2 and "--workers: '0': give a whole number of processes, 1 or more" in err


def test_restore_album_without_models_creates_no_job(cli, small_album, tmp_path, monkeypatch):
    monkeypatch.setenv("FACEME_MODELS", str(tmp_path / "no-models"))
    cli("scan", str(small_album))
    code, _, err = cli("restore-album", "--out-dir", str(tmp_path / "out"))
    assert code == 2 and "not installed" in err and "faceme models download" in err
    code, out, _ = cli("restore-album", "--list", "--json")
    assert code == 0 and json.loads(out) == []


def test_restore_album_list_show_and_cancel(cli, small_album, tmp_path):
    from faceme_core.library import jobs
    from faceme_core.library.library import Library

    cli("scan", str(small_album))
    with Library.open(tmp_path / "cli.sqlite") as library:
        job_id = jobs.create_job(library, tmp_path / "out")
    code, out, _ = cli("restore-album", "--list")
    assert code == 0 and f"job {job_id}: pending, 0/5 done" in out
    code, out, _ = cli("restore-album", "--show", str(job_id), "--json")
    assert [item["state"] for item in json.loads(out)] == ["pending"] * 5
    code, _, err = cli("restore-album", "--resume", str(job_id), "--steps", "7")
    assert code == 2 and "keeps the job's restoration settings" in err
    assert cli("restore-album", "--cancel", str(job_id))[0] == 0
    code, _, err = cli("restore-album", "--resume", str(job_id))
    assert code == 2 and "was cancelled" in err


def test_scan_lists_errors_and_missing_and_forgets_missing_on_request(cli, small_album):
    (small_album / "broken.jpg").write_bytes(b"garbage")
    cli("scan", str(small_album))
    (small_album / "hepburn_portrait_lowres.jpg").unlink()
    code, out, _ = cli("scan", str(small_album))
    assert code == 0 and "1 newly missing" in out

    code, out, _ = cli("scan", "--errors", "--json")
    assert [entry["path"].rsplit("/", 1)[-1] for entry in json.loads(out)] == ["broken.jpg"]
    code, out, _ = cli("scan", "--missing", "--json")
    assert [(entry["path"].rsplit("/", 1)[-1], entry["faces"]) for entry in json.loads(out)] == [
        ("hepburn_portrait_lowres.jpg", 1)
    ]

    assert cli("scan", "--forget-missing")[1] == "forgot 1 missing photo\n"
    assert json.loads(cli("scan", "--missing", "--json")[1]) == []
    code, _, err = cli("scan")
    assert code == 2 and "give the album FOLDER" in err


def test_moving_or_rejecting_several_faces_is_all_or_nothing(cli, small_album):
    cli("scan", str(small_album))
    people = json.loads(cli("people", "--json")[1])
    face = people[0]["faces"][0]["id"]
    code, _, err = cli("people", "move", str(face), "99999", "--new", "--name", "Zed")
    assert code == 2 and "no face with id 99999" in err
    after = json.loads(cli("people", "--json")[1])
    assert after == people and "Zed" not in {p["name"] for p in after}  # no person made, no face moved
    code, _, err = cli("people", "reject", str(face), "99999")
    assert code == 2 and "no face with id 99999" in err
    assert json.loads(cli("people", "--json")[1]) == people


@pytest.mark.parametrize(
    "args",
    [
        ("people", "move", "99999999999999999999", "--to", "2"),
        ("people", "cover", "1", "99999999999999999999"),
        ("refs", "remove", "99999999999999999999"),
        ("restore-album", "--show", "99999999999999999999"),
        ("restore-album", "--resume", "²"),
    ],
)
def test_impossible_ids_are_usage_errors(cli, args):
    code, _, err = cli(*args)
    assert code == 2 and "invalid id" in err and "Traceback" not in err


def test_person_given_by_odd_digits_or_a_huge_id_is_a_clear_error(cli, small_album):
    cli("scan", str(small_album))
    code, _, err = cli("people", "hide", "²")
    assert code == 2 and "no person named '²'" in err
    code, _, err = cli("people", "hide", "99999999999999999999")
    assert code == 2 and "no person with id 99999999999999999999" in err


def test_restore_album_checks_the_selection_and_out_dir_before_loading_the_engine(
    cli, small_album, tmp_path, monkeypatch
):
    import faceme_core.cli.cmd_restore_album as command

    def no_engine(*_args):
        raise AssertionError("the engine must not be loaded for a job that cannot be created")

    monkeypatch.setattr(command, "_open_restorer", no_engine)
    cli("scan", str(small_album))
    code, _, err = cli("restore-album", "--person", "Nobody", "--out-dir", str(tmp_path / "out"))
    assert code == 2 and "no person named 'Nobody'" in err
    code, _, err = cli("restore-album", "--out-dir", str(small_album / "restored"))
    assert code == 2 and "inside the album folder" in err
    assert json.loads(cli("restore-album", "--list", "--json")[1]) == []


def test_rename_warns_about_namesakes_whatever_their_case(cli, small_album):
    """Lookups ignore case, so "ringo" after "Ringo" makes the name ambiguous: say so at once."""
    cli("scan", str(small_album))
    first, second = json.loads(cli("people", "--json")[1])[:2]
    assert cli("people", "rename", str(first["id"]), "Ringo")[0] == 0
    code, out, _ = cli("people", "rename", str(second["id"]), "ringo")
    assert code == 0 and f"note: person {first['id']} is also called 'ringo'" in out
    code, _, err = cli("people", "hide", "RINGO")
    assert code == 2 and "several people are named" in err  # what the note warned about


def test_refs_add_file_says_when_the_face_looks_like_someone_else(cli, small_album, faces_dir):
    cli("scan", str(small_album))
    [portrait] = [f for f in json.loads(cli("people", "list", "--unassigned", "--json")[1])
                  if f["photo"].endswith("hepburn_portrait_lowres.jpg")]
    assert cli("people", "move", str(portrait["id"]), "--new", "--name", "Audrey")[0] == 0
    code, out, _ = cli("refs", "add", "Audrey", "--file", str(faces_dir / "Einstein01.png"))
    assert code == 0 and "warning: the face in" in out and "looks like someone else (similarity 0.8" in out
    code, out, _ = cli("refs", "add", "Audrey", "--file", str(faces_dir / "Hepburn01.png"))
    assert code == 0 and "warning" not in out
    blank = small_album.parent / "blank.png"
    from PIL import Image

    Image.new("RGB", (300, 300), (128, 128, 128)).save(blank)
    code, _, err = cli("refs", "add", "Audrey", "--file", str(blank))
    assert code == 2 and "no face" in err


def test_refs_remove_with_a_wrong_id_removes_nothing_and_can_be_run_again(cli, small_album):
    cli("scan", str(small_album))
    band = next(p for p in json.loads(cli("people", "--json")[1]) if len(p["faces"]) >= 2)
    added = [cli("refs", "add", str(band["id"]), "--face", str(face["id"]))[1] for face in band["faces"][:2]]
    first, second = (int(out.split()[1].rstrip(":")) for out in added)

    code, _, err = cli("refs", "remove", str(first), "99999")  # a typo in the second id
    assert code == 2 and "no reference with id 99999" in err
    assert len(json.loads(cli("refs", "list", str(band["id"]), "--json")[1])) == 2  # the first is still there

    code, out, _ = cli("refs", "remove", str(first), str(second))  # the corrected command
    assert code == 0 and out.splitlines() == [f"removed reference {first}", f"removed reference {second}"]
    assert json.loads(cli("refs", "list", str(band["id"]), "--json")[1]) == []
    code, out, _ = cli("people", "undo")  # one command, one decision to undo
    assert code == 0 and "removal of references face" in out
    assert len(json.loads(cli("refs", "list", str(band["id"]), "--json")[1])) == 2
