"""Pages of the gallery, one module per resource as in gallery/apis/: generations (generate and
follow a generation), images (the gallery grid, an image, acting on several at once),
collections, sharing (share links and the public shared page) and catalogue (example pictures
of style presets and style LoRAs). The paged image grid both the gallery and a collection show
is in grid.py. Thin: parse, call a service or a selector, render.

A selector's NotFound (missing, someone else's, a malformed id, not viewable) is the 404 page:
`core.http.NotFoundMiddleware` turns it into one, so no view catches it."""
