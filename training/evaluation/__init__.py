"""Reproduce the paper's Table 1 on a test set: ``python -m training.evaluate``.

``testset`` (what to restore), ``restorers`` (the engine, with or without references), ``metrics``
(PSNR, SSIM, IDS, LMD), ``lpips``, ``fid``, ``musiq`` (each with an injectable network),
``runner`` (restore and score, resumable) and ``report`` (CSV, Markdown, contact sheet).
"""
