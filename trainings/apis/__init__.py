"""The trainings API under /api/v1/, one module per resource: datasets (a dataset and its
report), dataset_images (a dataset's photos: uploading, captions, thumbnails), lora_models
(LoRA models and trigger words) and runs (training runs). What more than one module uses (the
schema's error responses, paging) is in serializers.py. Views parse input and call services
and selectors."""
