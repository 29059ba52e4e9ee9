"""cerulean://container/name URIs."""

SCHEME = "cerulean://"


def parse_uri(uri):
    """("container", "name") of "cerulean://container/name"; the scheme is optional."""
    rest = uri[len(SCHEME):] if uri.startswith(SCHEME) else uri
    container, _, name = rest.lstrip("/").partition("/")
    if not container:
        raise ValueError(f"{uri!r}: expected cerulean://container/name")
    return container, name
