"""Model services of bench/service_models.py, started with uvicorn: each is a FastAPI app
scoring one transaction per call (API-key header), as a team would write it. SERVICE_KIND:
- pandas_xgboost: a pandas DataFrame per request, one-hot columns, Booster.predict;
- lean_xgboost: the transaction read into a numpy vector, Booster.inplace_predict;
- lean_sklearn: the same vector (the amount standardised), LogisticRegression.predict_proba.
SERVICE_MODEL is a pickle of {"model": ..., "columns": [...], "mean": m, "scale": s}."""
import os
import pickle

import numpy as np
import pandas as pd
from fastapi import FastAPI, Header, HTTPException

API_KEY = os.environ.get("SERVICE_API_KEY", "secret")
KIND = os.environ["SERVICE_KIND"]
with open(os.environ["SERVICE_MODEL"], "rb") as f:
    STATE = pickle.load(f)
MODEL, COLUMNS = STATE["model"], STATE["columns"]
INDEX = {c: i for i, c in enumerate(COLUMNS)}
app = FastAPI()


def vector(tx):
    x = np.zeros((1, len(COLUMNS)), dtype=np.float32)
    x[0, 0] = (float(tx["amount"]) - STATE["mean"]) / STATE["scale"]
    for key in ("merchant_category", "country", "channel"):
        i = INDEX.get(f"{key}={tx.get(key)}")
        if i is not None:
            x[0, i] = 1.0
    return x


@app.post("/score")
def score(transaction: dict, x_api_key: str = Header(None)):
    if x_api_key != API_KEY:
        raise HTTPException(status_code=401, detail="bad API key")
    if KIND == "pandas_xgboost":
        frame = pd.get_dummies(pd.DataFrame([transaction]), prefix_sep="=", dtype=float)
        frame = frame.reindex(columns=COLUMNS, fill_value=0.0)
        return {"score": float(MODEL.predict_proba(frame)[0, 1])}
    if KIND == "lean_xgboost":
        return {"score": float(MODEL.get_booster().inplace_predict(vector(transaction))[0])}
    return {"score": float(MODEL.predict_proba(vector(transaction))[0, 1])}
