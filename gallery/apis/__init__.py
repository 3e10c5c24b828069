"""The gallery API under /api/v1/, one module per resource as in gallery/services/:
generations, images, collections, sharing (share links), catalogue (style presets and style
LoRAs) and simple_image (the simple service `image/{model_name}`). Serializers more than one
module uses are in serializers.py. Views parse input and call services and selectors."""
