import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

from tests.training.refpool_support import blocky_image
from training.evaluation import fid as fid_module
from training.evaluation.lpips import LPIPS, AlexNetFeatures
from training.evaluation.metrics import PSNR_CAP, identity_similarity, landmark_distance, psnr, ssim
from training.evaluation.report import markdown_table, write_contact_sheet, write_reports
from training.evaluation.runner import BLIND, INPUT, REFERENCES, EvaluationConfig, Scorers, run_evaluation
from training.evaluation.testset import TestSetError, discover, load_pair
from training.imagefiles import read_rgb8, write_png


# --- metrics on known inputs ------------------------------------------------------------------------------

def test_psnr_known_values_and_cap():
    a = np.full((16, 16, 3), 100, np.uint8)
    assert psnr(a, a) == PSNR_CAP
    b = a.copy()
    b[..., 0] += 10  # squared error 100 on a third of the values: MSE 100/3
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / (100 / 3)))
    assert psnr(np.zeros_like(a), np.full_like(a, 255)) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        psnr(a, a[:8])


def test_ssim_is_one_for_identical_images_and_matches_scikit_image():
    from skimage.metrics import structural_similarity

    image = blocky_image(3, 64)
    assert ssim(image, image) == pytest.approx(1.0)
    noisy = np.clip(image + np.random.default_rng(0).normal(0, 25, image.shape), 0, 255).astype(np.uint8)
    value = ssim(image, noisy)
    assert 0.0 < value < 0.9
    # Wang et al.'s definition as scikit-image computes it (Gaussian 11x11, sigma 1.5, population
    # covariance), compared on the interior that both evaluate without padding
    _, full = structural_similarity(image, noisy, channel_axis=2, data_range=255, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, full=True)
    assert value == pytest.approx(float(full[5:-5, 5:-5].mean()), abs=1e-6)


def test_ids_and_lmd_on_known_vectors_and_points():
    vectors = {1: np.array([1.0, 0.0]), 2: np.array([1.0, 1.0])}
    embed = lambda image: vectors[int(image[0, 0, 0])]
    assert identity_similarity(embed, np.full((2, 2, 3), 1), np.full((2, 2, 3), 2)) == pytest.approx(1 / math.sqrt(2))
    points = {1: np.zeros((68, 2)), 2: np.tile([3.0, 4.0], (68, 1))}
    landmarks = lambda image: points[int(image[0, 0, 0])]
    assert landmark_distance(landmarks, np.full((2, 2, 3), 1), np.full((2, 2, 3), 2)) == pytest.approx(5.0)


def test_frechet_distance_of_known_gaussians():
    # Diagonal covariances: FID = |mu_a - mu_b|^2 + sum (sqrt(s_a) - sqrt(s_b))^2
    mu_a, mu_b = np.array([0.0, 1.0]), np.array([3.0, 1.0])
    sigma_a, sigma_b = np.diag([1.0, 4.0]), np.diag([4.0, 4.0])
    assert fid_module.frechet_distance(mu_a, sigma_a, mu_b, sigma_b) == pytest.approx(9.0 + 1.0)
    features = np.random.default_rng(0).normal(size=(200, 4))
    assert fid_module.fid(features, features) == pytest.approx(0.0, abs=1e-6)
    assert fid_module.fid(features, features + 2.0) == pytest.approx(16.0, rel=1e-6)


class TinyBackbone(nn.Module):
    """Two fixed layers: the identity (pixels) and a 2x2 average pool of them."""

    def forward(self, x):
        return [x, nn.functional.avg_pool2d(x, 2)]


def test_lpips_formula_with_a_tiny_backbone():
    model = LPIPS(TinyBackbone(), [torch.ones(3), torch.zeros(3)])
    image = blocky_image(5, 16)
    assert model.distance(image, image) == pytest.approx(0.0)
    # pixels that are pure red vs pure green (after LPIPS's shift/scale both stay one-hot-ish): per-pixel
    # unit vectors differ, so the distance is |u - v|^2 averaged, computed here by hand
    red, green = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)
    red[..., 0], green[..., 1] = 255, 255
    shift, scale = torch.tensor([-0.030, -0.088, -0.188]), torch.tensor([0.458, 0.448, 0.450])
    u = (torch.tensor([1.0, -1.0, -1.0]) - shift) / scale
    v = (torch.tensor([-1.0, 1.0, -1.0]) - shift) / scale
    expected = float(((u / u.norm() - v / v.norm()) ** 2).sum())
    assert model.distance(red, green) == pytest.approx(expected, rel=1e-5)
    # the second layer counts only with a weight
    weighted = LPIPS(TinyBackbone(), [torch.zeros(3), torch.full((3,), 2.0)])
    assert weighted.distance(red, green) == pytest.approx(2 * expected, rel=1e-5)


def test_alexnet_features_match_the_torchvision_layout_lpips_expects():
    backbone = AlexNetFeatures()
    names = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    assert names["features.0.weight"] == (64, 3, 11, 11) and names["features.10.weight"] == (256, 256, 3, 3)
    shapes = [tuple(f.shape[1:2]) for f in backbone(torch.zeros(1, 3, 64, 64))]
    assert shapes == [(64,), (192,), (384,), (256,), (256,)]  # LPIPS-alex's five channel counts


# --- the test set -----------------------------------------------------------------------------------------

def make_testset(root, identities=("ann", "bob", "cid"), faces_each=(1, 2, 1), size=64):
    for n, (identity, count) in enumerate(zip(identities, faces_each)):
        for i in range(count):
            write_png(root / "gt" / identity / f"{i}.png", blocky_image(10 * n + i, size))
        write_png(root / "refs" / identity / "r0.png", blocky_image(10 * n, size))
        write_png(root / "refs" / identity / "r1.png", blocky_image(10 * n + 5, size))
    return root


def test_discover_and_degrade_reproducibly(tmp_path):
    make_testset(tmp_path)
    faces = discover(tmp_path / "gt", tmp_path / "refs")
    assert [f.name for f in faces] == ["ann/0.png", "bob/0.png", "bob/1.png", "cid/0.png"]
    assert [len(f.references) for f in faces] == [2, 2, 2, 2]
    lq, gt = load_pair(faces[1], degradation_seed=3)
    assert lq.shape == gt.shape == (512, 512, 3)  # resized to the engine's face size
    assert np.array_equal(lq, load_pair(faces[1], degradation_seed=3)[0])
    assert not np.array_equal(lq, load_pair(faces[1], degradation_seed=4)[0])
    (tmp_path / "refs" / "cid" / "r0.png").unlink()
    (tmp_path / "refs" / "cid" / "r1.png").unlink()
    with pytest.raises(TestSetError, match="no reference images for identity 'cid'"):
        discover(tmp_path / "gt", tmp_path / "refs")


def test_given_lq_images_are_used_as_they_are(tmp_path):
    make_testset(tmp_path, identities=("ann",), faces_each=(1,), size=512)
    given = blocky_image(99, 512)
    write_png(tmp_path / "lq" / "ann" / "0.png", given)
    face = discover(tmp_path / "gt", tmp_path / "refs", tmp_path / "lq")[0]
    assert np.array_equal(load_pair(face, 0)[0], given)
    (tmp_path / "lq" / "ann" / "0.png").unlink()
    with pytest.raises(TestSetError, match="missing degraded input"):
        discover(tmp_path / "gt", tmp_path / "refs", tmp_path / "lq")


# --- the runner and the report ----------------------------------------------------------------------------

class GroundTruthPeeker:
    """A 'restorer' that returns the ground truth when given references and the input when blind:
    the metrics must then show references winning exactly."""

    def __init__(self, truths):
        self.truths, self.calls = truths, []

    def __call__(self, lq, references):
        self.calls.append(len(references))
        return self.truths[references[0]] if references else lq


def tiny_scorers():
    def embed(image):
        vector = image[::64, ::64].astype(np.float64).reshape(-1) - 127.5
        return vector / np.linalg.norm(vector)

    def landmarks(image):
        grey = image.mean(axis=2)
        return np.stack([np.argwhere(grey > grey.mean()).mean(axis=0)] * 68)

    lpips = LPIPS(TinyBackbone(), [torch.ones(3), torch.ones(3)])
    return Scorers(identity=embed, landmarks=landmarks, lpips=lpips.distance,
                   fid_features=lambda batch: batch.reshape(len(batch), -1, 3).mean(axis=1)[:, :2].astype(np.float64),
                   musiq=lambda image: float(image.std()), missing={})


def run(root, restorer=None):
    if not (root / "set").is_dir():
        make_testset(root / "set", identities=("ann", "bob"), faces_each=(1, 2))
    faces = discover(root / "set" / "gt", root / "set" / "refs")
    truths = {f"ref:{face.identity}": load_pair(face, 0)[1] for face in faces}
    restorer = restorer or GroundTruthPeeker(truths)
    loads = []

    def load_references(paths):
        loads.append(tuple(p.name for p in paths))
        return [f"ref:{paths[0].parent.name}"]

    evaluation = run_evaluation(faces, restorer, load_references, tiny_scorers(), root / "out",
                                EvaluationConfig(max_references=1))
    return faces, evaluation, restorer, loads


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """One evaluation shared by the tests that only read it (SSIM at 512 px is the slow part)."""
    root = tmp_path_factory.mktemp("evaluation")
    return (root, *run(root))


def test_evaluation_scores_blind_and_reference_restorations(evaluated):
    # ann has one face, bob two: the peeker returns bob/1's truth for both of bob's faces
    root, faces, evaluation, restorer, loads = evaluated
    assert restorer.calls == [0, 1] * 3
    assert loads == [("r0.png",)] * 2  # references loaded once per identity, capped at max_references
    by_method = {row.method: row for row in evaluation.methods}
    assert [row.method for row in evaluation.methods] == [INPUT, BLIND, REFERENCES]
    assert by_method[BLIND].values == by_method[INPUT].values  # blind returned the input itself
    ref = by_method[REFERENCES].values
    assert ref["psnr"] > by_method[BLIND].values["psnr"]
    per_face = {(s.method, s.name): s for s in evaluation.faces}
    ann = per_face[(REFERENCES, "ann/0.png")]
    assert (ann.psnr, ann.ssim, ann.lpips, ann.lmd) == (PSNR_CAP, pytest.approx(1.0), 0.0, 0.0)
    assert ann.ids == pytest.approx(1.0) and per_face[(BLIND, "ann/0.png")].ids < 0.999
    assert per_face[(REFERENCES, "bob/0.png")].psnr < PSNR_CAP  # got bob/1's truth
    assert ref["psnr"] == pytest.approx(np.mean([s.psnr for s in evaluation.faces if s.method == REFERENCES]))
    assert all(row.values["fid"] is not None for row in evaluation.methods)
    bob = {row.method: row for row in evaluation.identities if row.identity == "bob"}
    assert bob[REFERENCES].faces == 2 and bob[REFERENCES].values["fid"] is None  # FID is a set metric
    assert (root / "out" / "restored" / "references" / "bob" / "1.png").is_file()


def test_evaluation_resumes_from_written_restorations(evaluated):
    root, _, first, _, _ = evaluated
    _, again, _, _ = run(root, restorer=lambda lq, refs: pytest.fail("restored again"))
    assert [r.values for r in again.methods] == [r.values for r in first.methods]


def test_reports_in_table1_layout_and_a_contact_sheet(evaluated, tmp_path):
    root, faces, evaluation, _, _ = evaluated
    files = write_reports(evaluation, tmp_path / "report", notes=["MUSIQ: skipped"])
    with open(files["summary_csv"]) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["method", "identity", "faces", "psnr", "ssim", "lpips", "musiq", "fid", "lmd", "ids"]
    assert [r[0] for r in rows[1:]] == [INPUT, BLIND, REFERENCES]
    assert float(rows[3][3]) == pytest.approx(evaluation.methods[2].values["psnr"], rel=1e-5)
    with open(files["identities_csv"]) as handle:
        identity_rows = list(csv.reader(handle))[1:]
    assert [(r[0], r[1]) for r in identity_rows][:3] == [(INPUT, "ann"), (BLIND, "ann"), (REFERENCES, "ann")]
    assert len(identity_rows) == 6
    with open(files["faces_csv"]) as handle:
        assert len(list(csv.reader(handle))) == 1 + 3 * 3
    markdown = files["markdown"].read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| method"))
    assert header == "| method | faces | PSNR ↑ | SSIM ↑ | LPIPS ↓ | MUSIQ ↑ | FID ↓ | LMD ↓ | IDS ↑ |"
    assert "| FaceMe, with references | 3 |" in markdown and "paper: FaceMe on CelebRef-HQ" in markdown
    assert "- MUSIQ: skipped" in markdown and "## Per identity" in markdown
    sheet = read_rgb8(write_contact_sheet(faces, root / "out", identities=2))
    assert sheet.shape == (28 + 2 * 256, 160 + 4 * 256, 3)
    # row 1 is ann: column 4 its ground truth, column 3 the with-references result (= that truth here)
    gt_tile, ref_tile = sheet[28:284, 160 + 3 * 256:], sheet[28:284, 160 + 2 * 256:160 + 3 * 256]
    assert np.array_equal(gt_tile, ref_tile) and not np.array_equal(gt_tile, sheet[28:284, 160:416])


def test_missing_metrics_show_as_na():
    from training.evaluation.runner import SummaryRow

    row = SummaryRow("blind", "blind", None, 3, {"psnr": 20.0, "ssim": 0.5, "lpips": None, "musiq": None,
                                                 "fid": None, "lmd": 1.0, "ids": 0.5})
    expected = "| FaceMe, blind (no references) | 3 | 20.00 | 0.500 | n/a | n/a | n/a | 1.000 | 0.500 |"
    assert expected in markdown_table([row])


# --- the command line, on the tiny engine ------------------------------------------------------------------

@pytest.mark.slow
def test_cli_evaluates_with_the_tiny_engine_and_antelopev2(tmp_path, capsys):
    import shutil

    from tests.conftest import FACES_DIR
    from tests.support.tiny_insightface import build_tiny_landmark_3d68
    from tests.support.tiny_models import build_tiny_model_dir
    from training.evaluate import main

    paths = build_tiny_model_dir(tmp_path / "models", with_antelopev2=True)
    build_tiny_landmark_3d68(paths.antelopev2)
    (tmp_path / "gt" / "hepburn").mkdir(parents=True)
    (tmp_path / "refs" / "hepburn").mkdir(parents=True)
    shutil.copy(FACES_DIR / "Hepburn01.png", tmp_path / "gt" / "hepburn" / "a.png")
    shutil.copy(FACES_DIR / "Hepburn02.png", tmp_path / "refs" / "hepburn" / "r.png")
    write_png(tmp_path / "refs" / "hepburn" / "thumb.png", np.full((16, 16, 3), 128, np.uint8))  # face too small
    # FaceMe's weights where a training run exports them (OUTPUT/weights), outside the model folder
    (tmp_path / "run").mkdir()
    shutil.move(tmp_path / "models" / "faceme", tmp_path / "run" / "weights")
    argv = ["--gt", str(tmp_path / "gt"), "--refs", str(tmp_path / "refs"), "--out", str(tmp_path / "out"),
            "--models-dir", str(tmp_path / "models"), "--device", "cpu", "--sampler", "ddim-30", "--steps", "1",
            "--no-lpips", "--no-fid"]
    assert main(argv) == 2  # the model folder alone has no FaceMe weights now
    assert "controlnet" in capsys.readouterr().err
    assert main([*argv, "--weights", str(tmp_path / "run")]) == 2  # the run's folder, not its weights/
    assert "no controlnet" in capsys.readouterr().err
    assert main([*argv, "--weights", str(tmp_path / "run" / "weights")]) == 0
    out = capsys.readouterr().out
    assert "| FaceMe, with references | 1 |" in out and "| FaceMe, blind (no references) | 1 |" in out
    report = (tmp_path / "out" / "report.md").read_text()
    assert "- LPIPS: skipped (--no-lpips)" in report and "steps 1" in report
    assert "- reference left out: " in report and "thumb.png" in report
    with open(tmp_path / "out" / "table1.csv") as handle:
        rows = {r["method"]: r for r in csv.DictReader(handle)}
    assert rows["references"]["lpips"] == "" and -1.0 <= float(rows["references"]["ids"]) <= 1.0
    assert float(rows["references"]["lmd"]) >= 0.0 and float(rows["input"]["psnr"]) > 5.0
    blind = read_rgb8(tmp_path / "out" / "restored" / "blind" / "hepburn" / "a.png")
    with_refs = read_rgb8(tmp_path / "out" / "restored" / "references" / "hepburn" / "a.png")
    assert blind.shape == with_refs.shape == (512, 512, 3) and not np.array_equal(blind, with_refs)
    assert (tmp_path / "out" / "contact_sheet.png").is_file()


def test_cli_reports_a_bad_test_set_as_one_line(tmp_path, capsys):
    from training.evaluate import main

    assert main(["--gt", str(tmp_path / "nope"), "--refs", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err
