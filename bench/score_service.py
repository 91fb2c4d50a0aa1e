"""The alternative users run today: a FastAPI service wrapping a scikit-learn pipeline,
called once per transaction with an API key (started by service.py with uvicorn)."""
import os
import pickle

from fastapi import FastAPI, Header, HTTPException
import pandas as pd

API_KEY = os.environ.get("SERVICE_API_KEY", "secret")
with open(os.environ["SERVICE_MODEL"], "rb") as f:
    PIPELINE = pickle.load(f)
app = FastAPI()


@app.post("/score")
def score(transaction: dict, x_api_key: str = Header(None)):
    if x_api_key != API_KEY:
        raise HTTPException(status_code=401, detail="bad API key")
    frame = pd.DataFrame([transaction])
    return {"score": float(PIPELINE.predict_proba(frame)[0, 1])}
