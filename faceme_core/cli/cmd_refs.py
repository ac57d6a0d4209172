"""`faceme refs list|add|remove|suggest`: the reference faces each person is restored with."""

from __future__ import annotations

import argparse

from faceme_core.cli.common import UserArgumentParser, add_command, count, print_json
from faceme_core.cli.library_args import add_library_action, add_library_option, id_arg, open_library
from faceme_core.errors import FaceMeError

DESCRIPTION = """\
References show the restoration who a person is: good, varied photos of their face. Pick album faces
(ids from 'faceme people list') or image files. 'suggest' proposes the person's best album faces
(sharp, large, frontal, not near-duplicates); nothing is used until you accept it. Picking an album
face as a reference also confirms that it is this person: regrouping never moves it away.
"""


def register(subparsers):
    parser = add_command(
        subparsers, "refs", help="choose the reference faces of each person", handler=run, description=DESCRIPTION
    )
    add_library_option(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=UserArgumentParser)
    actions.required = True

    def action(name, help):
        return add_library_action(actions, name, help)

    listing = action("list", "list a person's references")
    listing.add_argument("person", metavar="PERSON", help="id or name")
    listing.add_argument("--json", action="store_true")

    add = action("add", "add album faces or image files as references")
    add.add_argument("person", metavar="PERSON", help="id or name")
    add.add_argument(
        "--face", type=id_arg, nargs="+", default=[], metavar="FACE_ID", help="album face(s) of this person"
    )
    add.add_argument("--file", nargs="+", default=[], metavar="IMAGE", help="image file(s) showing this person")

    remove = action("remove", "remove references")
    remove.add_argument("refs", nargs="+", type=id_arg, metavar="REF_ID")

    suggest = action("suggest", "propose the person's best album faces as references")
    suggest.add_argument("person", metavar="PERSON", help="id or name")
    suggest.add_argument("--count", type=int, default=3, metavar="K", help="how many (default 3)")
    suggest.add_argument("--accept", action="store_true", help="add the suggestions as references")
    suggest.add_argument("--json", action="store_true")


def _reference_json(ref) -> dict:
    return {
        "id": ref.id,
        "kind": ref.kind,
        "face": ref.face_id,
        "photo": str(ref.photo_path) if ref.photo_path else None,
        "box": [round(v, 1) for v in ref.box] if ref.box else None,
        "file": str(ref.file_path) if ref.file_path else None,
    }


def run(args: argparse.Namespace):
    from faceme_core.library import references

    with open_library(args) as library:
        if args.action == "list":
            refs = references.list_references(library, args.person)
            if args.json:
                print_json([_reference_json(ref) for ref in refs])
            else:
                for ref in refs:
                    where = f"face {ref.face_id} in {ref.photo_path}" if ref.kind == "face" else str(ref.file_path)
                    print(f"{ref.id:>5}  {where}")
                print(count(len(refs), "reference"))
        elif args.action == "add":
            if not args.face and not args.file:
                raise FaceMeError("refs add: give --face FACE_ID... and/or --file IMAGE...")
            for face_id in args.face:
                ref_id = references.add_face_reference(library, args.person, face_id).reference_id
                print(f"reference {ref_id}: face {face_id}")
            analyzer = references.analyzer_for_library(library) if args.file else None
            for path in args.file:
                added = references.add_file_reference(library, args.person, path, analyzer=analyzer)
                print(f"reference {added.change.reference_id}: {path}")
                check = added.check
                if check.looks_like_someone_else:
                    print(f"warning: the face in {path} looks like someone else (similarity {check.similarity:.2f} to "
                          f"this person's faces, below {check.threshold:.2f}); remove it with 'faceme refs remove "
                          f"{added.change.reference_id}' if it is not them")
            if args.file:  # the face is found at restore time: say which one it will be
                print("from an image file the largest face is used: crop group photos to the person first")
        elif args.action == "remove":
            references.remove_references(library, args.refs)  # all or none: a wrong id removes nothing
            for ref_id in dict.fromkeys(args.refs):
                print(f"removed reference {ref_id}")
        elif args.action == "suggest":
            suggestions = references.suggest_references(library, args.person, args.count)
            accepted = (
                [references.add_face_reference(library, args.person, s.face_id).reference_id for s in suggestions]
                if args.accept
                else []
            )
            if args.json:
                print_json(
                    [
                        {
                            "face": s.face_id,
                            "photo": str(s.photo_path),
                            "box": [round(v, 1) for v in s.box],
                            "quality": round(s.quality, 3),
                        }
                        for s in suggestions
                    ]
                )
            else:
                for s in suggestions:
                    print(f"face {s.face_id}: quality {s.quality:.2f} in {s.photo_path}")
                if not suggestions:
                    print("no suitable face: the person's faces are too degraded, or already references")
                elif accepted:
                    print(f"added {count(len(accepted), 'reference')}")
                else:
                    print("accept with --accept, or pick some with 'faceme refs add PERSON --face ID...'")
    return 0
