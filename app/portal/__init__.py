"""The portal: the session brief in a browser, read-only, for people who never call the API
(server-rendered pages, no script; DESIGN §8, docs/portal.md)."""
