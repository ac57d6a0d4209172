"""The restoration options shared by `faceme restore` and `faceme restore-album`."""

from __future__ import annotations

import argparse

from faceme_core.engine.options import OFFLOAD_MODES
from faceme_core.errors import FaceMeError


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sampler", default="ddpm-50", metavar="NAME",
                        help="sampler preset: ddpm-50 (FaceMe's reference), dpmpp-25 or ddim-30 (ours, faster)")
    parser.add_argument("--steps", type=int, help="denoising steps (default: the preset's)")
    parser.add_argument("--identity-strength", type=float, default=5.0, metavar="X",
                        help="identity guidance lambda (default 5.0, FaceMe's setting; 0 ignores the references)")
    parser.add_argument("--seed", type=int, help="random seed, for reproducible results")
    parser.add_argument("--no-color-correction", action="store_true", help="skip the wavelet colour correction")
    parser.add_argument("--upscale", type=int, choices=(1, 2), default=1, help="output size factor (default 1)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--offload", nargs="?", const="model", default="none", choices=OFFLOAD_MODES, metavar="MODE",
                        help="for small GPUs: model (what --offload alone means: parts not running leave "
                             "the GPU; ~7 GB + activations), group (a few layers at a time, for GPUs under "
                             "8 GB) or sequential (least memory, slowest); default none (~7.5 GB + activations)")


# The engine names its fields; a command-line user knows the flags.
FLAG_OF_FIELD = {"sampler": "--sampler", "steps": "--steps", "identity_strength": "--identity-strength",
                 "seed": "--seed", "match_threshold": "--match-threshold"}


def as_flag_error(error: ValueError) -> FaceMeError:
    message = str(error)
    for field, flag in FLAG_OF_FIELD.items():
        if message.startswith(f"{field}="):
            message = f"{flag} {message[len(field) + 1:]}"
            break
    return FaceMeError(message)


def restore_options_from_args(args: argparse.Namespace):
    """The engine's RestoreOptions, checked: a bad value is a one-line user error."""
    from faceme_core.engine.options import RestoreOptions

    try:
        options = RestoreOptions(sampler=args.sampler, steps=args.steps, identity_strength=args.identity_strength,
                                 seed=args.seed, color_correction=not args.no_color_correction)
        options.validate()
    except ValueError as error:
        raise as_flag_error(error) from None
    return options
