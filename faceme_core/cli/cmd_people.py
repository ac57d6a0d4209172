"""`faceme people [list|rename|merge|move|reject|hide|unhide|cover|recluster|undo|redo]`: who is in the album.

People are addressed by id or by unique name; faces by the ids ``faceme people list`` shows.
"""

from __future__ import annotations

import argparse

from faceme_core.cli.cmd_scan import add_library_action, add_library_option, id_arg, open_library
from faceme_core.cli.common import UserArgumentParser, add_command, print_json
from faceme_core.errors import FaceMeError

DESCRIPTION = """\
The people found in your album and your decisions about them. Without an action: list them.
Your decisions (names, merges, moves, "not this person") are never undone by automatic grouping,
not even by 'recluster' or 'faceme scan --reembed'.
"""


def register(subparsers):
    parser = add_command(
        subparsers,
        "people",
        help="list people and correct the automatic grouping",
        handler=run,
        description=DESCRIPTION,
    )
    add_library_option(parser)
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="(list) print JSON on stdout")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=UserArgumentParser)

    def action(name, help):
        return add_library_action(actions, name, help)

    listing = action("list", "list people with their faces (default action)")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON on stdout")
    listing.add_argument("--unassigned", action="store_true", help="list the faces that belong to nobody instead")

    rename = action("rename", "give a person a name")
    rename.add_argument("person", metavar="PERSON", help="id or name")
    rename.add_argument("name", metavar="NAME")

    merge = action("merge", "merge people into one (the first keeps its id and name)")
    merge.add_argument("target", metavar="PERSON")
    merge.add_argument("sources", nargs="+", metavar="OTHER")

    move = action("move", "move faces to another person, or to a new one")
    move.add_argument("faces", nargs="+", type=id_arg, metavar="FACE_ID")
    where = move.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="PERSON", help="id or name of the person they are")
    where.add_argument("--new", action="store_true", help="a new person")
    move.add_argument("--name", help="with --new: the new person's name")

    reject = action("reject", '"not this person": the face leaves the person for good')
    reject.add_argument("faces", nargs="+", type=id_arg, metavar="FACE_ID")
    reject.add_argument("--person", help="the person it is not (default: the one it is on)")

    for name, help in (("hide", "hide a person from listings"), ("unhide", "show a hidden person again")):
        action(name, help).add_argument("person", metavar="PERSON")

    cover = action("cover", "choose the face shown for a person")
    cover.add_argument("person", metavar="PERSON")
    cover.add_argument("face", type=id_arg, metavar="FACE_ID")

    action("recluster", "regroup all faces from scratch, keeping every decision of yours")
    action("undo", "undo your last decision about people or references (again: the one before)")
    action("redo", "redo the decision you undid last")


def _face_json(face) -> dict:
    return {
        "id": face.id,
        "photo": str(face.photo_path),
        "photo_status": face.photo_status,
        "box": [round(v, 1) for v in face.box],
        "quality": round(face.quality, 3),
        "assigned_by": face.assigned_by,
        "thumbnail": str(face.thumbnail) if face.thumbnail else None,
    }


def _list(library, args) -> None:
    from faceme_core.library import people

    if getattr(args, "unassigned", False):
        faces = people.unassigned_faces(library)
        if args.json:
            print_json([_face_json(face) for face in faces])
        else:
            for face in faces:
                print(f"face {face.id}: {face.photo_path}")
            print(f"{len(faces)} faces belong to nobody")
        return
    everyone = people.list_people(library)
    if args.json:
        print_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "hidden": p.hidden,
                    "cover_face": p.cover_face_id,
                    "references": p.reference_count,
                    "faces": [_face_json(face) for face in p.faces],
                }
                for p in everyone
            ]
        )
        return
    if not everyone:
        print("no people yet: run 'faceme scan FOLDER'")
    for p in everyone:
        if p.hidden:
            continue
        photos = sorted({face.photo_path.name for face in p.faces})
        shown = ", ".join(photos[:4]) + (f" and {len(photos) - 4} more" if len(photos) > 4 else "")
        ids = " ".join(str(face.id) for face in p.faces)
        print(
            f"{p.id:>5}  {p.display_name}: {len(p.faces)} faces (ids {ids}) in {shown}; {p.reference_count} references"
        )
    hidden = sum(p.hidden for p in everyone)
    if hidden:
        print(f"({hidden} hidden; see them with --json)")
    unassigned = len(people.unassigned_faces(library))
    if unassigned:
        print(f"{unassigned} face(s) belong to nobody yet: 'faceme people list --unassigned', then 'people move'")


def run(args):
    from faceme_core.library import people

    action = args.action or "list"
    args.json = getattr(args, "json", False)
    with open_library(args) as library:
        if action == "list":
            _list(library, args)
        elif action == "rename":
            person_id = people.rename_person(library, args.person, args.name).person_id
            name = args.name.strip()
            print(f"person {person_id} is now {name!r}")
            namesakes = people.namesakes(library, person_id)
            if namesakes:  # allowed (two Johns), but names alone no longer tell them apart
                print(f"note: person {', '.join(map(str, namesakes))} is also called {name!r} (names match "
                      f"whatever their case): use ids for them, or 'faceme people merge {person_id} "
                      f"{namesakes[0]}' if they are the same person")
        elif action == "merge":
            target = people.merge_people(library, args.target, args.sources).person_id
            print(f"merged into person {target}")
        elif action == "move":
            if args.name and not args.new:
                raise FaceMeError("--name goes with --new (to name the person with --to, use 'faceme people rename')")
            # All faces or none: a bad id leaves no half-done move (nor a new empty person).
            change = people.move_faces(library, args.faces, None if args.new else args.to, new_name=args.name)
            print(f"moved {len(args.faces)} face(s) to person {change.person_id}")
        elif action == "reject":
            change = people.reject_faces(library, args.faces, args.person)
            faces = ", ".join(map(str, args.faces))
            whom = f"person {change.person_id}" if change.person_id is not None else "the people they were on"
            print(f"face(s) {faces}: not {whom}; they will not be put back there")
        elif action in ("hide", "unhide"):
            person_id = people.set_hidden(library, args.person, action == "hide").person_id
            print(f"person {person_id} {'hidden' if action == 'hide' else 'shown'}")
        elif action == "cover":
            person_id = people.set_cover(library, args.person, args.face).person_id
            print(f"face {args.face} is now person {person_id}'s cover")
        elif action == "recluster":
            change = people.recluster(library)
            print(f"regrouped all faces ({len(change.people_changed)} people changed); your decisions were kept; "
                  "'faceme people undo' undoes it")
        elif action in ("undo", "redo"):
            from faceme_core.library import undo

            result = undo.undo(library) if action == "undo" else undo.redo(library)
            if result is None:
                print(f"nothing to {action}")
            else:
                print(f"{'undone' if action == 'undo' else 'redone'}: {result.description}")
    return 0
