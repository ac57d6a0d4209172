"""A tiny stand-in for insightface's ``antelopev2`` pack, for tests (the real one cannot be downloaded).

``build_tiny_antelopev2(pack_dir)`` writes two small ONNX files with the real pack's names and
input/output signatures, so insightface's own ``model_zoo`` loads them exactly as it loads the real
ones (same routing, same decoding, same alignment):

- ``scrfd_10g_bnkps.onnx``: input ``input.1`` (1, 3, ?, ?) float; 9 outputs, for strides 8, 16, 32 in
  turn the scores (N, 1), the box distances (N, 4) and the key-point offsets (N, 10), 2 anchors per
  location, in units of the stride (as SCRFD's decoder expects). Whatever the image, it "detects" one
  face: its outputs are constants in which exactly one anchor (stride 16, the grid point nearest the
  face's centre) scores 0.99 and carries the encoded box and points; every other anchor scores 0.
  Inputs up to 640x640 only (the detector size our backend uses).
- ``glintr100.onnx``: input ``input.1`` (batch, 3, 112, 112), output (batch, 512): a real small conv
  net with fixed random weights (seed 0), so different face crops give different embeddings.

Coordinates: ``face_box`` and ``face_points`` are in the DETECTOR INPUT space, i.e. the 640x640
letterboxed image insightface feeds the detector: the photo is scaled by ``detector_scale(size_wh)``
and placed at the top-left. ``expected_detection(size_wh, ...)`` gives the box and points (photo
coordinates) the backend should then report for a photo of that size. To place the face at a given
spot in a photo, multiply photo coordinates by ``detector_scale(size_wh)``.

Building takes ~20 ms and writes ~2 MB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DETECTOR_FILE = "scrfd_10g_bnkps.onnx"
RECOGNIZER_FILE = "glintr100.onnx"
DETECTOR_SIZE = 640
STRIDES = (8, 16, 32)
ANCHORS_PER_LOCATION = 2
FACE_STRIDE = 16  # the one anchor that fires lives on this stride's grid
FACE_SCORE = 0.99
EMBEDDING_SIZE = 512

# A frontal face filling the middle of the detector input.
DEFAULT_FACE_BOX = (240.0, 180.0, 400.0, 380.0)


def default_points(face_box: tuple[float, float, float, float]) -> np.ndarray:
    """Five plausible points (insightface order) inside a box: ArcFace's template proportions."""
    x0, y0, x1, y1 = face_box
    # insightface's 112x112 ArcFace template, as fractions of a face box.
    fractions = np.array(
        [[0.342, 0.462], [0.656, 0.460], [0.500, 0.640], [0.371, 0.825], [0.631, 0.824]], dtype=np.float64
    )
    return np.column_stack([x0 + fractions[:, 0] * (x1 - x0), y0 + fractions[:, 1] * (y1 - y0)]).astype(np.float32)


def detector_scale(size_wh: tuple[int, int], det_size: int = DETECTOR_SIZE) -> float:
    """Photo pixels -> detector input pixels, exactly as insightface's SCRFD letterboxing computes it."""
    width, height = size_wh
    if height / width > 1.0:
        new_height = det_size
    else:
        new_height = int(det_size * (height / width))
    return float(new_height) / height


def expected_detection(
    size_wh: tuple[int, int],
    face_box: tuple[float, float, float, float] = DEFAULT_FACE_BOX,
    face_points: np.ndarray | None = None,
) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """The (box, points) in photo coordinates that the tiny detector yields for a photo of this size."""
    points = default_points(face_box) if face_points is None else np.asarray(face_points, dtype=np.float64)
    scale = detector_scale(size_wh)
    box = tuple(float(v) / scale for v in face_box)
    return box, (points / scale).astype(np.float32)


def build_tiny_antelopev2(
    pack_dir: Path,
    *,
    face_box: tuple[float, float, float, float] | None = None,
    face_points: np.ndarray | None = None,
) -> Path:
    """Write the tiny pack into ``pack_dir`` (created if needed) and return ``pack_dir``.

    face_box: (x0, y0, x1, y1) of the one face, in detector input coordinates (see module docstring);
        default ``DEFAULT_FACE_BOX``.
    face_points: (5, 2) key points in insightface order (left eye, right eye, nose tip, left and right
        mouth corner), detector input coordinates; default ``default_points(face_box)``.
    For the real pack's layout under a model folder, pass ``models_dir / ANTELOPEV2_DIRNAME``
    (``faceme_core.models.layout``).
    """
    box = DEFAULT_FACE_BOX if face_box is None else tuple(float(v) for v in face_box)
    points = default_points(box) if face_points is None else np.asarray(face_points, dtype=np.float64)
    if points.shape != (5, 2):
        raise ValueError(f"face_points: expected shape (5, 2), got {points.shape}")
    if not (0 <= box[0] < box[2] <= DETECTOR_SIZE and 0 <= box[1] < box[3] <= DETECTOR_SIZE):
        raise ValueError(f"face_box: expected x0 < x1, y0 < y1 inside the {DETECTOR_SIZE}px detector input, got {box}")
    pack_dir = Path(pack_dir)
    pack_dir.mkdir(parents=True, exist_ok=True)
    _save(_detector_model(box, points), pack_dir / DETECTOR_FILE)
    _save(_recognizer_model(), pack_dir / RECOGNIZER_FILE)
    return pack_dir


def _save(model, path: Path) -> None:
    import onnx

    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _detector_outputs(box, points) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per stride, full-size (1, G, G, anchors, k) score, box and key-point tensors for a 640 input."""
    tensors = {}
    for stride in STRIDES:
        grid = DETECTOR_SIZE // stride
        shape = (1, grid, grid, ANCHORS_PER_LOCATION)
        scores, boxes, kps = np.zeros(shape + (1,)), np.zeros(shape + (4,)), np.zeros(shape + (10,))
        if stride == FACE_STRIDE:
            # Anchor centres are (column * stride, row * stride), no half-stride offset (SCRFD).
            column = min(grid - 1, round((box[0] + box[2]) / 2 / stride))
            row = min(grid - 1, round((box[1] + box[3]) / 2 / stride))
            cx, cy = column * stride, row * stride
            scores[0, row, column, 0, 0] = FACE_SCORE
            boxes[0, row, column, 0] = np.array([cx - box[0], cy - box[1], box[2] - cx, box[3] - cy]) / stride
            kps[0, row, column, 0] = (points - np.array([cx, cy])).reshape(-1) / stride
        tensors[stride] = tuple(t.astype(np.float32) for t in (scores, boxes, kps))
    return tensors


def _detector_model(box, points):
    """Constant outputs cut to the input's grid: Slice rows/columns to (H/stride, W/stride), flatten."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Shape", ["input.1"], ["in_shape"]),
        helper.make_node("Slice", ["in_shape", "i_2", "i_4", "i_0"], ["in_hw"]),  # (H, W)
    ]
    initializers = [
        numpy_helper.from_array(np.array([v], dtype=np.int64), name)
        for name, v in (("i_0", 0), ("i_2", 2), ("i_4", 4))
    ] + [numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "axes_12"),
         numpy_helper.from_array(np.array([0, 0], dtype=np.int64), "zeros_2")]
    outputs = {"score": [], "bbox": [], "kps": []}
    for stride, tensors in _detector_outputs(box, points).items():
        initializers.append(numpy_helper.from_array(np.array([stride, stride], dtype=np.int64), f"stride_{stride}"))
        nodes.append(helper.make_node("Div", ["in_hw", f"stride_{stride}"], [f"grid_{stride}"]))
        for kind, tensor in zip(outputs, tensors):
            const, name = f"{kind}_{stride}_const", f"{kind}_{stride}"
            width = tensor.shape[-1]
            initializers.append(numpy_helper.from_array(tensor, const))
            initializers.append(numpy_helper.from_array(np.array([-1, width], dtype=np.int64), f"flat_{width}_{stride}_{kind}"))
            nodes.append(helper.make_node("Slice", [const, "zeros_2", f"grid_{stride}", "axes_12"], [f"{name}_cut"]))
            nodes.append(helper.make_node("Reshape", [f"{name}_cut", f"flat_{width}_{stride}_{kind}"], [name]))
            outputs[kind].append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"n{stride}", width]))
    graph = helper.make_graph(
        nodes,
        "tiny_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"])],
        outputs["score"] + outputs["bbox"] + outputs["kps"],  # SCRFD's order: all scores, boxes, points
        initializer=initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _recognizer_model():
    """Conv(3->8, 5x5, /4) ReLU Conv(8->8, 3x3, /4) -> 8x7x7 -> Gemm -> 512, seed-0 weights."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def weight(name, *shape, fan_in):
        return numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32), name)

    def zeros(name, size):
        return numpy_helper.from_array(np.zeros(size, np.float32), name)

    initializers = [
        weight("conv1_w", 8, 3, 5, 5, fan_in=3 * 5 * 5),
        zeros("conv1_b", 8),
        weight("conv2_w", 8, 8, 3, 3, fan_in=8 * 3 * 3),
        zeros("conv2_b", 8),
        weight("fc_w", 8 * 7 * 7, EMBEDDING_SIZE, fan_in=8 * 7 * 7),
        zeros("fc_b", EMBEDDING_SIZE),
    ]
    # Node names must not start with "Sub"/"Mul": insightface would then take it for an MXNet model
    # with built-in normalisation; glintr100 expects (pixel - 127.5) / 127.5 from the caller.
    nodes = [
        helper.make_node("Conv", ["input.1", "conv1_w", "conv1_b"], ["c1"], name="conv1", strides=[4, 4], pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "conv2_w", "conv2_b"], ["c2"], name="conv2", strides=[4, 4], pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["c2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["embedding"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_glintr100",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["batch", 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", EMBEDDING_SIZE])],
        initializer=initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


# --- the 3D landmark model (1k3d68), used by training's pose/expression attributes -------------------

LANDMARK_3D_FILE = "1k3d68.onnx"
LANDMARK_3D_INPUT = 192
LANDMARK_3D_OUTPUTS = 3309  # what insightface keys on: 3309 outputs = 1103 3D points, the last 68 used


def build_tiny_landmark_3d68(pack_dir: Path, *, sensitivity: float = 0.05) -> Path:
    """Write a tiny ``1k3d68.onnx`` into ``pack_dir`` (created if needed) and return its path.

    The real model's signature: input ``data`` (1, 3, 192, 192) float, one output ``fc1`` (1, 3309),
    insightface's normalisation ((pixel - 127.5) / 128, BGR->RGB swap). Its last 68 points are
    insightface's mean 3D shape scaled into the crop (output range about [-0.6, 0.6]) plus a small
    linear function of the 4x4-pooled input (fixed seed-0 weights, ``sensitivity`` per unit input), so
    different crops give different landmarks, poses and expressions while staying face-like.
    """
    from insightface.data import get_object
    from onnx import TensorProto, helper, numpy_helper

    mean_shape = np.asarray(get_object("meanshape_68.pkl"), dtype=np.float64)
    bias = np.zeros((LANDMARK_3D_OUTPUTS // 3, 3), dtype=np.float64)
    # insightface maps output (x, y) in [-1, 1] onto the 192 crop, the face box filling 1/1.5 of it;
    # the mean shape is already in image orientation (y down, the chin below the brows).
    bias[-68:] = mean_shape * 0.6
    rng = np.random.default_rng(0)
    pooled = 3 * 4 * 4
    weights = rng.standard_normal((pooled, LANDMARK_3D_OUTPUTS)) * sensitivity / np.sqrt(pooled)
    initializers = [
        numpy_helper.from_array(weights.astype(np.float32), "fc_w"),
        numpy_helper.from_array(bias.reshape(-1).astype(np.float32), "fc_b"),
    ]
    nodes = [  # node names avoid "Sub"/"Mul" prefixes: insightface would assume built-in normalisation
        helper.make_node("AveragePool", ["data"], ["pooled"], name="pool", kernel_shape=[48, 48], strides=[48, 48]),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["fc1"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_1k3d68",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, LANDMARK_3D_INPUT, LANDMARK_3D_INPUT])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, LANDMARK_3D_OUTPUTS])],
        initializer=initializers,
    )
    pack_dir = Path(pack_dir)
    pack_dir.mkdir(parents=True, exist_ok=True)
    path = pack_dir / LANDMARK_3D_FILE
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), path)
    return path
