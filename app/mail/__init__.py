"""Mail: messages composed from templates, written to an outbox in the request's
transaction, and sent after commit by whichever instance claims them (DESIGN §10)."""
