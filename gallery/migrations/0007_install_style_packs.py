"""Installs the curated style packs on a fresh install, and moves each existing preset's
suggested aspect ratio into its parameters.

Idempotent: a pack is looked up by name and created only when missing, so running this again
(or on a site where an admin already edited a pack) changes nothing. Reversing removes only the
packs still exactly as installed; the ones an admin edited stay.
"""

from django.db import migrations

# (name, description, prompt template, parameters, in the starter pack)
STYLE_PACKS = [
    (
        "Studio headshot",
        "A clean, sharp headshot on a seamless grey backdrop, lit like a photo studio.",
        "professional studio headshot of {trigger}, head and shoulders, looking at the camera, "
        "soft key light with a large octabox, subtle rim light, seamless neutral grey backdrop, "
        "shot on an 85mm lens at f/2.8, sharp focus on the eyes, natural skin texture, "
        "high-end retouching",
        {"aspect_ratio": "4:5", "guidance_scale": 3.0, "num_inference_steps": 32,
         "lora_scale": 1.0},
        True,
    ),
    (
        "Business portrait",
        "Confident and approachable, in business clothes, in a bright modern office.",
        "corporate portrait of {trigger} wearing a tailored navy blazer, confident friendly "
        "smile, standing in a bright modern office with glass walls, softly blurred background, "
        "window light from the left, 70mm lens, shallow depth of field, editorial business "
        "magazine photo",
        {"aspect_ratio": "4:5", "guidance_scale": 3.0, "num_inference_steps": 32,
         "lora_scale": 1.0},
        True,
    ),
    (
        "Outdoor natural light",
        "A relaxed portrait outdoors in warm, low afternoon sun.",
        "candid portrait of {trigger} outdoors in a park at golden hour, warm backlight through "
        "the trees, gentle lens flare, natural relaxed expression, casual clothes, 50mm lens at "
        "f/1.8, creamy bokeh, true-to-life colours",
        {"aspect_ratio": "3:4", "guidance_scale": 2.8, "num_inference_steps": 30,
         "lora_scale": 1.0},
        True,
    ),
    (
        "Cinematic",
        "A wide film still with moody light and teal-and-orange colour.",
        "cinematic film still of {trigger} standing on a rain-soaked city street at night, "
        "neon reflections on wet asphalt, dramatic side lighting, anamorphic lens, shallow depth "
        "of field, teal and orange colour grade, 35mm film grain, movie scene",
        {"aspect_ratio": "21:9", "guidance_scale": 3.5, "num_inference_steps": 32,
         "lora_scale": 1.0},
        True,
    ),
    (
        "Anime",
        "A clean anime illustration with bright colours and cel shading.",
        "anime style illustration of {trigger}, expressive eyes, clean line art, cel shading, "
        "vibrant colours, soft sky with fluffy clouds in the background, detailed hair, key "
        "visual of a modern anime film",
        {"aspect_ratio": "3:4", "guidance_scale": 3.5, "num_inference_steps": 30,
         "lora_scale": 0.85},
        True,
    ),
    (
        "Watercolour",
        "A loose watercolour painting on textured paper.",
        "watercolour painting of {trigger}, loose expressive brush strokes, soft colour bleeds "
        "and pigment blooms, visible cold-pressed paper texture, white paper left around the "
        "edges, delicate pastel palette, fine ink details around the eyes",
        {"aspect_ratio": "4:5", "guidance_scale": 3.5, "num_inference_steps": 30,
         "lora_scale": 0.85},
        False,
    ),
    (
        "Fantasy",
        "An epic fantasy hero portrait with armour and magic light.",
        "epic fantasy portrait of {trigger} as a hero in ornate silver armour with a flowing "
        "cloak, standing on a cliff above a misty valley, glowing magical runes, dramatic "
        "golden-hour sky, highly detailed, digital painting, concept art",
        {"aspect_ratio": "2:3", "guidance_scale": 3.5, "num_inference_steps": 32,
         "lora_scale": 0.95},
        False,
    ),
    (
        "Vintage film",
        "A 1970s snapshot on warm, grainy colour film.",
        "vintage 1970s photograph of {trigger}, shot on Kodak Portra 400, warm faded colours, "
        "soft film grain, slight light leak, natural window light, retro clothes and interior, "
        "35mm film camera snapshot",
        {"aspect_ratio": "3:2", "guidance_scale": 3.0, "num_inference_steps": 30,
         "lora_scale": 1.0, "output_format": "jpg"},
        False,
    ),
    (
        "Black-and-white editorial",
        "A high-contrast black-and-white portrait, like a magazine feature.",
        "black and white editorial portrait of {trigger}, high contrast, hard window light "
        "casting deep shadows, minimal dark background, strong jawline and cheekbone shadows, "
        "medium format camera, fine grain, fashion magazine feature",
        {"aspect_ratio": "4:5", "guidance_scale": 3.2, "num_inference_steps": 32,
         "lora_scale": 1.0},
        False,
    ),
    (
        "Oil painting",
        "A classical oil portrait with rich colour and visible brushwork.",
        "classical oil painting portrait of {trigger}, rich Rembrandt lighting, dark warm "
        "background, visible impasto brushwork, canvas texture, old master style, museum "
        "quality, seated three-quarter view",
        {"aspect_ratio": "4:5", "guidance_scale": 3.5, "num_inference_steps": 32,
         "lora_scale": 0.9},
        False,
    ),
    (
        "Cyberpunk neon",
        "A futuristic night portrait in pink and blue neon.",
        "cyberpunk portrait of {trigger}, neon pink and electric blue light on the face, "
        "futuristic jacket with glowing details, crowded night market in the rain, holographic "
        "signs, volumetric haze, 35mm lens, high detail, blade runner mood",
        {"aspect_ratio": "2:3", "guidance_scale": 3.5, "num_inference_steps": 32,
         "lora_scale": 0.95},
        False,
    ),
    (
        "3D cartoon",
        "A friendly animated-film character with soft 3D rendering.",
        "3D animated character of {trigger}, big expressive eyes, friendly smile, stylised "
        "proportions, soft subsurface skin, colourful playful background, studio lighting, "
        "rendered like a modern family animated film",
        {"aspect_ratio": "1:1", "guidance_scale": 3.5, "num_inference_steps": 30,
         "lora_scale": 0.85, "output_format": "png"},
        False,
    ),
    (
        "Casual profile picture",
        "A natural, friendly picture for a professional profile.",
        "friendly profile photo of {trigger} in a smart casual sweater, genuine smile, sitting "
        "in a bright cafe by the window, soft daylight, blurred warm background, 50mm lens, "
        "natural colours, professional networking profile picture",
        {"aspect_ratio": "1:1", "guidance_scale": 3.0, "num_inference_steps": 30,
         "lora_scale": 1.0},
        False,
    ),
]


def _has_aspect_ratio_field(model) -> bool:
    # Removed by 0008: absent when this runs again on the current schema.
    return any(field.name == "aspect_ratio" for field in model._meta.get_fields())


def install_style_packs(apps, schema_editor):
    StylePreset = apps.get_model("gallery", "StylePreset")
    if _has_aspect_ratio_field(StylePreset):
        for preset in StylePreset.objects.exclude(aspect_ratio=""):
            parameters = dict(preset.parameters or {})
            parameters.setdefault("aspect_ratio", preset.aspect_ratio)
            StylePreset.objects.filter(pk=preset.pk).update(parameters=parameters)
    for position, (name, description, template, parameters, starter) in enumerate(STYLE_PACKS):
        StylePreset.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "prompt_template": template,
                "parameters": parameters,
                "in_starter_pack": starter,
                "position": (position + 1) * 10,
            },
        )


def remove_style_packs(apps, schema_editor):
    StylePreset = apps.get_model("gallery", "StylePreset")
    for name, description, template, parameters, starter in STYLE_PACKS:
        StylePreset.objects.filter(
            name=name, description=description, prompt_template=template, parameters=parameters
        ).delete()
    if _has_aspect_ratio_field(StylePreset):
        for preset in StylePreset.objects.all():
            ratio = (preset.parameters or {}).get("aspect_ratio", "")
            StylePreset.objects.filter(pk=preset.pk).update(aspect_ratio=str(ratio)[:8])


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0006_style_packs_and_starter_pack"),
    ]

    operations = [
        migrations.RunPython(install_style_packs, remove_style_packs),
    ]
