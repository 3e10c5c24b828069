"""The schema of the trainer, `ostris/flux-dev-lora-trainer` (replicate/flux-fine-tuner `train()`).

Its parameters are under `TrainingInput`, what `POST .../versions/<id>/trainings` validates; the
training output is the `weights` URL of a tar with the LoRA.
"""

from __future__ import annotations

import copy
from typing import Any

from .cog import SchemaBuilder, openapi_document


def trainer_schema() -> dict[str, Any]:
    """`ostris/flux-dev-lora-trainer` (replicate/flux-fine-tuner `train()`)."""
    b = SchemaBuilder()
    b.add(
        "input_images",
        "string",
        "A zip file containing the images that will be used for training. We recommend a minimum "
        "of 10 images. If you include captions, include them as one .txt file per image, e.g. "
        "my-photo.jpg should have a caption file named my-photo.txt.",
        default=None,
        fmt="uri",
    )
    b.add(
        "trigger_word",
        "string",
        "The trigger word refers to the object, style or concept you are training on. Pick a "
        "string that isn't a real word, like TOK or something related to what's being trained.",
        default="TOK",
    )
    b.add(
        "autocaption",
        "boolean",
        "Automatically caption images using Llava v1.5 13B",
        default=True,
    )
    b.add(
        "autocaption_prefix",
        "string",
        "Optional: Text you want to appear at the beginning "
        "of all your generated captions; for example, 'a photo of TOK, '.",
        default=None,
    )
    b.add(
        "autocaption_suffix",
        "string",
        "Optional: Text you want to appear at the end of all "
        "your generated captions; for example, ' in the style of TOK'.",
        default=None,
    )
    b.add(
        "steps",
        "integer",
        "Number of training steps. Recommended range 500-4000",
        default=1000,
        minimum=3,
        maximum=6000,
    )
    b.add(
        "learning_rate",
        "number",
        "Learning rate, if you're new to training you probably don't need to change this.",
        default=0.0004,
    )
    b.add("batch_size", "integer", "Batch size, you can leave this as 1", default=1)
    b.add("resolution", "string", "Image resolutions for training", default="512,768,1024")
    b.add(
        "lora_rank",
        "integer",
        "Higher ranks take longer to train but can capture more complex features. Caption "
        "quality is more important for higher ranks.",
        default=16,
        minimum=1,
        maximum=128,
    )
    b.add(
        "caption_dropout_rate",
        "number",
        "Advanced setting. Determines how often a caption is ignored. 0.05 means for 5% of all "
        "steps an image will be used without its caption.",
        default=0.05,
        minimum=0,
        maximum=1,
    )
    b.add(
        "optimizer",
        "string",
        "Optimizer to use for training. Supports: prodigy, adam8bit, "
        "adamw8bit, lion8bit, adam, adamw, lion, adagrad, adafactor.",
        default="adamw8bit",
    )
    b.add(
        "cache_latents_to_disk",
        "boolean",
        "Use this if you have lots of input images and you hit out of memory errors",
        default=False,
    )
    b.add(
        "layers_to_optimize_regex",
        "string",
        "Regular expression to match specific layers to optimize.",
        default=None,
    )
    b.add(
        "gradient_checkpointing",
        "boolean",
        "Turn on gradient checkpointing; saves memory at the cost of training speed.",
        default=False,
    )
    b.add(
        "hf_repo_id",
        "string",
        "Hugging Face repository ID, if you'd like to upload the "
        "trained LoRA to Hugging Face. For example, lucataco/flux-dev-lora.",
        default=None,
    )
    b.add(
        "hf_token",
        "string",
        "Hugging Face token, if you'd like to upload the trained LoRA to Hugging Face.",
        default=None,
        secret=True,
    )
    b.add(
        "wandb_api_key",
        "string",
        "Weights and Biases API key, if you'd like to log training progress to W&B.",
        default=None,
        secret=True,
    )
    b.add(
        "wandb_project",
        "string",
        "Weights and Biases project name.",
        default="flux_train_replicate",
    )
    b.add("wandb_run", "string", "Weights and Biases run name.", default=None)
    b.add("wandb_entity", "string", "Weights and Biases entity name.", default=None)
    b.add(
        "wandb_sample_interval",
        "integer",
        "Step interval for sampling output images that are logged to W&B.",
        default=100,
        minimum=1,
    )
    b.add(
        "wandb_sample_prompts",
        "string",
        "Newline-separated list of prompts to use when logging samples to W&B.",
        default=None,
    )
    b.add(
        "wandb_save_interval",
        "integer",
        "Step interval for saving intermediate LoRA weights to W&B.",
        default=100,
        minimum=1,
    )
    b.add(
        "skip_training_and_use_pretrained_hf_lora_url",
        "string",
        "If you'd like to skip LoRA training altogether and instead create a Replicate model "
        "from a pre-trained LoRA that's on HuggingFace, use this field with a HuggingFace "
        "download URL. For example, https://huggingface.co/fofr/flux-80s-cyberpunk/resolve/"
        "main/lora.safetensors.",
        default=None,
    )
    training_input = b.input_schema("TrainingInput")
    components: dict[str, Any] = {
        "TrainingInput": training_input,
        # The simulator runs no predictions on the trainer; `Input` mirrors the training input so
        # a consumer reading the usual key finds the trainer's parameters.
        "Input": {**copy.deepcopy(training_input), "title": "Input"},
        "TrainingOutput": {
            "type": "object",
            "title": "TrainingOutput",
            "required": ["weights"],
            "properties": {"weights": {"type": "string", "title": "Weights", "format": "uri"}},
        },
        "Output": {"type": "string", "title": "Output", "format": "uri"},
        **b.enums,
    }
    return openapi_document(components)
