"""The ceiling: a bare FastAPI app with one async route that returns a constant.

`uvicorn bench.bare_app:app` with the service's flags; its `/healthz` answers what the
service's does (`{"status": "ok"}` through a response model), with no middleware, no
database and no settings, so the ratio service ÷ bare app is the cost of the service's
middleware stack on a route that does nothing.
"""

from fastapi import FastAPI
from pydantic import BaseModel


class Health(BaseModel):
    status: str = "ok"


app = FastAPI(title="bare")


@app.get("/healthz")
async def healthz() -> Health:
    return Health()
