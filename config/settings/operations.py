"""The operator dashboard (the `operations` app, /staff/dashboard/).

Part of base.py, which star-imports it. Replicate bills GPU time by the second; these prices
turn each job's `predict_time` into an estimated cost. They are list prices, not our invoice:
the dashboard says its costs are estimates. Set them to the hardware your models run on.
"""

import environ

env = environ.Env()

# The name the admin's header and title show (the site's pages use the same name).
SITE_NAME = env("SITE_NAME", default="Avatars")

# Trainings run on an H100 (or A100 80 GB): about $0.001528 per second.
REPLICATE_TRAINING_GPU_PRICE_PER_SECOND = env.float(
    "REPLICATE_TRAINING_GPU_PRICE_PER_SECOND", default=0.001528
)
# FLUX predictions run on an L40S-class GPU: about $0.000725 per second.
REPLICATE_PREDICTION_GPU_PRICE_PER_SECOND = env.float(
    "REPLICATE_PREDICTION_GPU_PRICE_PER_SECOND", default=0.000725
)
# The periods the dashboard offers (?days=), in days, and the one it shows without it.
OPERATIONS_DASHBOARD_PERIODS = (7, 30, 90)
OPERATIONS_DASHBOARD_DEFAULT_DAYS = 30
