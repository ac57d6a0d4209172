"""The FaceMe restoration engine: identity encoder, prompt surgery and sampling (torch, no Qt).

What inference and ``training/`` share (training never keeps a copy of these):

- ``components``: ``load_diffusion_components(paths)``, ``load_unet`` / ``load_controlnet`` /
  ``load_vae`` / ``load_scheduler_config``, ``load_text_encoders``, and ``predict_noise`` (one
  ControlNet + UNet evaluation with SDXL's added conditions);
- ``identity``: ``ClipIdEncoder``, ``clip_pixels``, ``load_clip_id_encoder``, ``load_mix``;
  ``mix``: ``Mix``, ``MixConfig``;
- ``prompt``: ``encode_prompt``, ``load_prompt_embeddings``, ``splice_identity``, ``add_time_ids``;
- ``offload``: the offload modes and the memory each needs.

``restorer.Restorer`` is the inference entry point; ``sampling`` its denoising loop.
"""
