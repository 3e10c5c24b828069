"""Template helpers of the picture viewer: grid items open it in the list they belong to."""

from django import template

from .. import viewer

register = template.Library()


@register.simple_tag(takes_context=True)
def viewer_url(context, image):
    """The image's viewer page, carrying the grid's filters (and its collection, on a
    collection's page), so that previous / next step through the same list."""
    request = context["request"]
    query = context.render_context.get("viewer_list_query")
    if query is None:
        match = request.resolver_match
        collection_id = None
        if match is not None and match.url_name == "collection":
            collection_id = match.kwargs.get("collection_id")
        query = viewer.list_query(request.GET, collection_id=collection_id)
        context.render_context["viewer_list_query"] = query  # once a page, not a picture
    return viewer.viewer_url(image, query)
