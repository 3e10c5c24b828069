from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "USES_REPLICATE_SIMULATOR": settings.REPLICATE_USES_SIMULATOR,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
    }
