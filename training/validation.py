"""Validation restorations during training: the engine's own ``Restorer`` on the weights being trained.

The first ``validation_samples`` ground truths of the manifest, each degraded with the draw of epoch 0
(so every validation shows the same inputs), restored with up to ``max_references`` of its pool.
Each row of the grid is [degraded | restored | ground truth]; grids go to
``output_dir/validation/step-<N>.png`` and, when TensorBoard is installed, to its log.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

logger = logging.getLogger("training")


def validation_grid(config, model, frozen, dataset) -> np.ndarray:
    """(rows x S, 3 x S, 3) uint8: degraded, restored, ground truth for each validation sample."""
    from faceme_core.engine.identity import IdentityTokens
    from faceme_core.engine.options import RestoreOptions
    from faceme_core.engine.restorer import FaceRequest, Restorer
    from training.data import load_ground_truth
    from training.degradation import degrade, sample_degradation

    count = min(config.validation_samples, len(dataset))
    device = frozen.unet.device
    was_training = model.training
    model.eval()
    try:
        # The Restorer moves Mix to its dtype: give it Mix's own (float32, or float16 under DeepSpeed),
        # so the weights being trained are never cast.
        mix_dtype = next(model.mix.parameters()).dtype
        restorer = Restorer(frozen.unet, model.controlnet, frozen.vae, frozen.scheduler_config, None, model.mix,
                            frozen.prompt, device=str(device), dtype=mix_dtype, face_size=config.resolution)
        rows = []
        for index in range(count):
            entry = dataset.entries[index]
            gt = load_ground_truth(dataset.layout, entry.gt, config.resolution)
            lq = degrade(gt, sample_degradation(config.seed, 0, index))
            features = [dataset.features_of(name) for name in entry.pool[: config.max_references]]
            with torch.inference_mode():
                tokens = model.mix(torch.stack([f.clip for f in features]).to(device, mix_dtype),
                                   torch.stack([f.arcface for f in features]).to(device, mix_dtype)).float().cpu()
            result = restorer([FaceRequest(lq, IdentityTokens(tokens))],
                              RestoreOptions(steps=config.validation_sampling_steps, seed=config.seed))[0]
            rows.append(np.concatenate([lq, result.image, gt], axis=1))
    finally:
        model.train(was_training)
    return np.concatenate(rows, axis=0)


def log_validation(config, accelerator, model, frozen, dataset, step: int) -> None:
    from PIL import Image

    from faceme_core.imageio.atomic import write_atomically

    # Forked: whatever validation draws must not shift the training noise, or a run resumed from a
    # checkpoint written at a validation step would differ from the unbroken run.
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if torch.cuda.is_available() else []):
        grid = validation_grid(config, model, frozen, dataset)
    folder = config.output_dir / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    import io

    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG")
    write_atomically(folder / f"step-{step:07d}.png", buffer.getvalue())
    if accelerator.log_with:
        tracker = accelerator.get_tracker("tensorboard", unwrap=True)
        tracker.add_image("validation", grid, step, dataformats="HWC")
    logger.info("validation restorations written to %s", folder / f"step-{step:07d}.png")
