"""The accounts API under /api/v1/, one module per resource: auth (registration, e-mail
verification, JWT sign-in, refresh and sign-out), me (the profile, the password, the avatar,
deleting the account), credits (the balance and its history) and exports (data exports).
What more than one module uses is in serializers.py. Views parse input and call services and
selectors."""
